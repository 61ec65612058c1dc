"""Handlers for ML program (MIL, iOS15 opset) elementwise and tensor ops.

Each handler reads one `MilOperation` and adds equivalent ONNX nodes writing `op.output`.
Semantics follow coremltools' `converters.mil.mil.ops.defs.iOS15`; binary ops broadcast like NumPy,
as ONNX does. Every tensor is float32 here: `cast` between fp16 and fp32 is an identity.
"""

from __future__ import annotations

import numpy as np

from mobilestyle.errors import UserError
from mobilestyle.runner.mil_program import MilOperation
from mobilestyle.runner.onnx_builder import GraphBuilder

_INT64_MIN = np.iinfo(np.int64).min
_INT64_MAX = np.iinfo(np.int64).max

_UNARY = {"relu": "Relu", "sigmoid": "Sigmoid", "tanh": "Tanh", "sqrt": "Sqrt", "exp": "Exp", "abs": "Abs",
          "softplus": "Softplus", "softsign": "Softsign"}
_BINARY = {"add": "Add", "sub": "Sub", "mul": "Mul", "real_div": "Div", "maximum": "Max", "minimum": "Min",
           "pow": "Pow"}
FLOAT_CASTS = ("fp16", "fp32")


def _unary(onnx_op: str):
    def convert(op: MilOperation, g: GraphBuilder) -> None:
        g.node(onnx_op, [op.tensor(g, "x")], op.output)
    return convert


def _binary(onnx_op: str):
    def convert(op: MilOperation, g: GraphBuilder) -> None:
        g.node(onnx_op, [op.tensor(g, "x"), op.tensor(g, "y")], op.output)
    return convert


def _float(g: GraphBuilder, op: MilOperation, value: float, what: str) -> str:
    return g.constant(np.float32(value), f"{op.output}/{what}")


def convert_square(op: MilOperation, g: GraphBuilder) -> None:
    x = op.tensor(g, "x")
    g.node("Mul", [x, x], op.output)


def convert_rsqrt(op: MilOperation, g: GraphBuilder) -> None:
    """rsqrt(x) = 1 / sqrt(x + epsilon), epsilon defaulting to 1e-12."""
    shifted = g.node("Add", [op.tensor(g, "x"), _float(g, op, op.scalar("epsilon", 1e-12), "epsilon")])
    g.node("Reciprocal", [g.node("Sqrt", [shifted])], op.output)


def convert_inverse(op: MilOperation, g: GraphBuilder) -> None:
    """inverse(x) = 1 / (x + epsilon), epsilon defaulting to 1e-4."""
    shifted = g.node("Add", [op.tensor(g, "x"), _float(g, op, op.scalar("epsilon", 1e-4), "epsilon")])
    g.node("Reciprocal", [shifted], op.output)


def convert_log(op: MilOperation, g: GraphBuilder) -> None:
    """log(x + epsilon), epsilon defaulting to 1e-45."""
    shifted = g.node("Add", [op.tensor(g, "x"), _float(g, op, op.scalar("epsilon", 1e-45), "epsilon")])
    g.node("Log", [shifted], op.output)


def convert_leaky_relu(op: MilOperation, g: GraphBuilder) -> None:
    g.node("LeakyRelu", [op.tensor(g, "x")], op.output, alpha=float(op.scalar("alpha", 0.01)))


def convert_elu(op: MilOperation, g: GraphBuilder) -> None:
    g.node("Elu", [op.tensor(g, "x")], op.output, alpha=float(op.scalar("alpha", 1.0)))


def convert_relu6(op: MilOperation, g: GraphBuilder) -> None:
    g.node("Clip", [op.tensor(g, "x"), _float(g, op, 0.0, "min"), _float(g, op, 6.0, "max")], op.output)


def convert_clip(op: MilOperation, g: GraphBuilder) -> None:
    """clip(x, alpha, beta) = min(max(x, alpha), beta)."""
    low, high = float(op.scalar("alpha")), float(op.scalar("beta"))
    g.node("Clip", [op.tensor(g, "x"), _float(g, op, low, "alpha"), _float(g, op, high, "beta")], op.output)


def convert_cast(op: MilOperation, g: GraphBuilder) -> None:
    """fp16 <-> fp32 casts are identities: the runner computes every float tensor in float32."""
    dtype = op.scalar("dtype")
    if dtype not in FLOAT_CASTS:
        raise UserError(f"{op.label}: cast to {dtype!r} is not supported by the Linux runner "
                        f"(supported: {', '.join(FLOAT_CASTS)})")
    g.node("Identity", [op.tensor(g, "x")], op.output)


def convert_identity(op: MilOperation, g: GraphBuilder) -> None:
    g.node("Identity", [op.tensor(g, "x")], op.output)


def convert_transpose(op: MilOperation, g: GraphBuilder) -> None:
    x = op.tensor(g, "x")
    rank = len(g.shape(x))
    perm = [axis % rank if rank else axis for axis in op.ints("perm")]
    if sorted(perm) != list(range(rank)):
        raise UserError(f"{op.label}: perm {perm} is not a permutation of the input's {rank} axes")
    g.node("Transpose", [x], op.output, perm=perm)


def convert_slice_by_index(op: MilOperation, g: GraphBuilder) -> None:
    """x[begin:end:stride] per axis; masks replace begin / end by the full range, squeeze_mask indexes."""
    x = op.tensor(g, "x")
    rank = len(g.shape(x))
    begin, end = op.ints("begin"), op.ints("end")
    stride = op.ints("stride", [1] * rank)
    begin_mask = [bool(v) for v in np.ravel(op.constant("begin_mask", [False] * rank))]
    end_mask = [bool(v) for v in np.ravel(op.constant("end_mask", [False] * rank))]
    squeeze_mask = [bool(v) for v in np.ravel(op.constant("squeeze_mask", [False] * rank))]
    if any(len(field) != rank for field in (begin, end, stride, begin_mask, end_mask, squeeze_mask)):
        raise UserError(f"{op.label}: slice parameters must have one entry per input axis ({rank})")
    starts, ends = [], []
    for axis in range(rank):
        if stride[axis] == 0:
            raise UserError(f"{op.label}: slice stride must not be 0")
        forward = stride[axis] > 0
        start = (0 if forward else -1) if begin_mask[axis] else begin[axis]
        if squeeze_mask[axis]:
            stop = start + 1 if start != -1 else _INT64_MAX
            stride[axis] = 1
        elif end_mask[axis]:
            stop = _INT64_MAX if forward else _INT64_MIN
        else:
            stop = end[axis]
        starts.append(start)
        ends.append(stop)
    squeezed = [axis for axis in range(rank) if squeeze_mask[axis]]
    sliced = g.node("Slice", [x, g.ints(starts, f"{op.output}/starts"), g.ints(ends, f"{op.output}/ends"),
                              g.ints(range(rank), f"{op.output}/axes"), g.ints(stride, f"{op.output}/steps")],
                    None if squeezed else op.output, hint=f"{op.output}/sliced")
    if squeezed:
        g.node("Squeeze", [sliced, g.ints(squeezed, f"{op.output}/squeeze_axes")], op.output)


def convert_reshape(op: MilOperation, g: GraphBuilder) -> None:
    g.node("Reshape", [op.tensor(g, "x"), g.ints(op.ints("shape"), f"{op.output}/shape")], op.output)


def _reduce(onnx_op: str):
    def convert(op: MilOperation, g: GraphBuilder) -> None:
        x = op.tensor(g, "x")
        axes = op.ints("axes", None) if op.has("axes") else list(range(len(g.shape(x))))
        keep_dims = int(bool(op.scalar("keep_dims", False)))
        g.node(onnx_op, [x], op.output, axes=axes, keepdims=keep_dims)
    return convert


HANDLERS = {
    **{mil_op: _unary(onnx_op) for mil_op, onnx_op in _UNARY.items()},
    **{mil_op: _binary(onnx_op) for mil_op, onnx_op in _BINARY.items()},
    "square": convert_square,
    "rsqrt": convert_rsqrt,
    "inverse": convert_inverse,
    "log": convert_log,
    "leaky_relu": convert_leaky_relu,
    "elu": convert_elu,
    "relu6": convert_relu6,
    "clip": convert_clip,
    "cast": convert_cast,
    "identity": convert_identity,
    "transpose": convert_transpose,
    "slice_by_index": convert_slice_by_index,
    "reshape": convert_reshape,
    "reduce_mean": _reduce("ReduceMean"),
    "reduce_max": _reduce("ReduceMax"),
}
