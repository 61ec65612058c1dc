"""A small ONNX graph builder that knows the static shape of every tensor it holds.

Layer handlers add nodes one at a time; each node's output shapes are inferred immediately with
ONNX's own per-node shape inference, so handlers can size pads, resizes and reshapes from real
shapes instead of re-deriving them.
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper, shape_inference

from mobilestyle.errors import UserError

OPSET = 17
IR_VERSION = 8

_ELEM_TYPES = {np.dtype(np.float32): TensorProto.FLOAT, np.dtype(np.int64): TensorProto.INT64,
               np.dtype(np.uint8): TensorProto.UINT8}


class GraphBuilder:
    """`reserved_names` (the model's own tensor names) are never given to generated tensors."""

    def __init__(self, reserved_names: set[str] | None = None) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self.inputs: list[onnx.ValueInfoProto] = []
        self.outputs: list[onnx.ValueInfoProto] = []
        self._types: dict[str, tuple[int, tuple[int, ...]]] = {}
        self._constants: dict[str, np.ndarray] = {}
        self._used_names: set[str] = set()
        self._reserved = set(reserved_names or ())
        self._aliases: dict[str, str] = {}

    def unique_name(self, hint: str) -> str:
        name, index = hint, 1
        while name in self._used_names or name in self._reserved:
            name, index = f"{hint}_{index}", index + 1
        self._used_names.add(name)
        return name

    def add_input(self, name: str, elem_type: int, shape: tuple[int, ...]) -> str:
        self._claim(name)
        self._types[name] = (elem_type, tuple(shape))
        self.inputs.append(helper.make_tensor_value_info(name, elem_type, list(shape)))
        return name

    def add_output(self, name: str) -> None:
        if self.resolve(name) != name:
            name = self.node("Identity", [name], self.unique_name(name))
        elem_type, shape = self._type_of(name)
        self.outputs.append(helper.make_tensor_value_info(name, elem_type, list(shape)))

    def constant(self, value, hint: str, dtype=np.float32, exact_name: bool = False) -> str:
        """An initializer; named `hint` itself when `exact_name` (a model tensor), else a fresh name."""
        array = np.ascontiguousarray(np.asarray(value, dtype=dtype))
        if exact_name:
            self._claim(hint)
            name = hint
        else:
            name = self.unique_name(hint)
        self.initializers.append(numpy_helper.from_array(array, name))
        self._types[name] = (_ELEM_TYPES[array.dtype], array.shape)
        self._constants[name] = array
        return name

    def ints(self, values, hint: str) -> str:
        return self.constant(list(values), hint, dtype=np.int64)

    def alias(self, name: str, target: str) -> None:
        """From now on, nodes that read `name` read `target` (e.g. a preprocessed graph input)."""
        self._aliases[name] = target

    def resolve(self, name: str) -> str:
        return self._aliases.get(name, name)

    def shape(self, name: str) -> tuple[int, ...]:
        return self._type_of(self.resolve(name))[1]

    def has(self, name: str) -> bool:
        return self.resolve(name) in self._types

    def node(self, op: str, inputs: list[str], output: str | None = None, hint: str | None = None,
             **attributes) -> str:
        """Add one node with one output; returns the output's name (a fresh one unless `output` is given)."""
        if output is None:
            output = self.unique_name(hint or op)
        else:
            self._claim(output)
        inputs = [self.resolve(name) for name in inputs]
        node = helper.make_node(op, inputs, [output], name=self.unique_name(f"node/{output}"), **attributes)
        self._types[output] = self._infer(node)
        self.nodes.append(node)
        return output

    def to_model(self, graph_name: str, doc: str = "") -> onnx.ModelProto:
        graph = helper.make_graph(self.nodes, graph_name, self.inputs, self.outputs, self.initializers)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                                  producer_name="mobilestyle.runner", doc_string=doc)
        model.ir_version = IR_VERSION
        onnx.checker.check_model(model, full_check=True)
        return model

    def _claim(self, name: str) -> None:
        if name in self._used_names:
            raise UserError(f"the model defines the tensor {name!r} twice")
        self._used_names.add(name)

    def _type_of(self, name: str) -> tuple[int, tuple[int, ...]]:
        if name not in self._types:
            raise UserError(f"the model uses the tensor {name!r} before any layer produces it")
        return self._types[name]

    def _infer(self, node: onnx.NodeProto) -> tuple[int, tuple[int, ...]]:
        schema = onnx.defs.get_schema(node.op_type, OPSET)
        types = {name: helper.make_tensor_type_proto(*self._type_of(name)) for name in node.input if name}
        data = {name: numpy_helper.from_array(self._constants[name], name)
                for name in node.input if name in self._constants}
        try:
            inferred = shape_inference.infer_node_outputs(schema, node, types, input_data=data)
        except Exception as exc:  # onnx raises several private error types for shape mismatches
            raise UserError(f"cannot translate {node.output[0]!r}: ONNX {node.op_type} rejects its inputs "
                            f"({str(exc).splitlines()[0]})") from None
        tensor_type = inferred[node.output[0]].tensor_type
        dims = tuple(dim.dim_value for dim in tensor_type.shape.dim)
        if any(not dim.HasField("dim_value") for dim in tensor_type.shape.dim):
            raise UserError(f"cannot infer a static shape for {node.output[0]!r} ({node.op_type})")
        return tensor_type.elem_type, dims
