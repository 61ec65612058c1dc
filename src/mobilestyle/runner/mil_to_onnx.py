"""Translating a Core ML ML program (an .mlpackage's `mlProgram`) into an equivalent float32 ONNX model.

The translated function is `main`, in the block of its opset (e.g. "CoreML5" for iOS 15). Its ops
are visited in order: `const` ops become values (inline, or read from the package's weight file by
`mil_weights`), every other op goes to its handler in `mil_ops_spatial` / `mil_ops_tensor`, and the
shape each handler computes is checked against the shape the program declares for that op.

Inputs keep their names and are float32 tensors of the declared shape. An image input is the
[1, C, H, W] tensor of pixel values 0..255 in the image's channel order; in an ML program the image
preprocessing (ImageType scale and bias) is part of the program itself (coremltools inserts `mul` /
`add` ops after the input), so it is translated like any other op. Outputs keep their names and are
the raw network values: turning an image output into pixels is the caller's business.

Precision: the runner computes in float32. A program exported with compute_precision=FLOAT16 casts
its input to fp16, keeps fp16 weights and casts the result back to fp32; here the fp16 weights are
upcast exactly to float32 and the casts are identities, so the result is the fp32 computation with
fp16-rounded weights. Core ML on the device computes such a program in fp16 (on the GPU or Neural
Engine), so its pixels can differ from the runner's by the fp16 rounding of activations.
"""

from __future__ import annotations

from pathlib import Path

import onnx
from onnx import TensorProto

from mobilestyle.errors import UserError
from mobilestyle.runner import mil_ops_spatial, mil_ops_tensor
from mobilestyle.runner.mil_program import MilOperation, ProgramConstants
from mobilestyle.runner.mil_weights import MIL_DTYPE_NAMES, BlobStorage, tensor_shape
from mobilestyle.runner.onnx_builder import GraphBuilder

MIL_OP_HANDLERS = {
    **mil_ops_spatial.HANDLERS,
    **mil_ops_tensor.HANDLERS,
}

MAIN_FUNCTION = "main"
FLOAT_INPUT_TYPES = (10, 11)


def supported_op_types() -> list[str]:
    return sorted(["const", *MIL_OP_HANDLERS])


def program_to_onnx(spec, model_dir: Path | None) -> onnx.ModelProto:
    """The ONNX model computing what the ML program `spec` computes; `model_dir` holds its weights/ folder."""
    if spec.WhichOneof("Type") != "mlProgram":
        raise UserError(f"the Core ML model is a {spec.WhichOneof('Type')!r}, not an mlProgram")
    program = spec.mlProgram
    if MAIN_FUNCTION not in program.functions:
        raise UserError(f"the ML program has no {MAIN_FUNCTION!r} function (it has {sorted(program.functions)})")
    function = program.functions[MAIN_FUNCTION]
    if function.opset not in function.block_specializations:
        raise UserError(f"the ML program's {MAIN_FUNCTION!r} function has no block for its opset {function.opset!r}")
    block = function.block_specializations[function.opset]
    reserved = {value.name for value in function.inputs}
    reserved |= {output.name for op in block.operations for output in op.outputs}
    g = GraphBuilder(reserved)
    constants = ProgramConstants(BlobStorage(model_dir))
    for value in function.inputs:
        _add_input(g, value)
    for op in block.operations:
        if op.type == "const":
            constants.add_const_op(op)
            continue
        name = op.outputs[0].name if len(op.outputs) else "(unnamed)"
        if len(op.blocks):
            raise UserError(f"operation {name!r} ({op.type}) has nested blocks; the Linux runner does not support "
                            f"control flow")
        handler = MIL_OP_HANDLERS.get(op.type)
        if handler is None:
            raise UserError(f"operation {name!r} has type {op.type!r}, which the Linux runner does not support "
                            f"(supported: {', '.join(supported_op_types())})")
        operation = MilOperation(op, constants)
        handler(operation, g)
        _check_declared_shape(g, operation)
    for feature in spec.description.output:
        if feature.name not in block.outputs or not g.has(feature.name):
            raise UserError(f"no operation of the ML program produces the model output {feature.name!r}")
        g.add_output(feature.name)
    return g.to_model("coreml_ml_program", doc=spec.description.metadata.shortDescription)


def _add_input(g: GraphBuilder, value) -> None:
    value_type = value.type
    if value_type.WhichOneof("type") != "tensorType":
        raise UserError(f"input {value.name!r} is a {value_type.WhichOneof('type')}; the Linux runner takes tensors")
    data_type = int(value_type.tensorType.dataType)
    if data_type not in FLOAT_INPUT_TYPES:
        raise UserError(f"input {value.name!r} has data type {MIL_DTYPE_NAMES.get(data_type, data_type)}; the "
                        f"Linux runner takes fp16 and fp32 inputs")
    g.add_input(value.name, TensorProto.FLOAT, tensor_shape(value_type.tensorType, f"input {value.name!r}"))


def _check_declared_shape(g: GraphBuilder, op: MilOperation) -> None:
    declared, computed = op.output_shape, g.shape(op.output)
    if declared != computed:
        raise UserError(f"cannot translate {op.label}: the program declares shape {declared}, the translation "
                        f"computes {computed}")
