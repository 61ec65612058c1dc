"""Handlers for Core ML's elementwise layers: activations, unary functions and arithmetic."""

from __future__ import annotations

import numpy as np

from mobilestyle.errors import UserError
from mobilestyle.runner.layers_spatial import layer_label
from mobilestyle.runner.onnx_builder import GraphBuilder
from mobilestyle.runner.weights import weight_array


def _scale_shift(g: GraphBuilder, x: str, scale: float, shift: float, hint: str, output: str | None = None) -> str:
    """scale * x + shift, skipping the identity parts (the last node writes `output` when given)."""
    steps = []
    if scale != 1.0:
        steps.append(("Mul", scale))
    if shift != 0.0:
        steps.append(("Add", shift))
    if not steps:
        return g.node("Identity", [x], output) if output else x
    for index, (op, value) in enumerate(steps):
        last = index == len(steps) - 1
        x = g.node(op, [x, g.constant(value, f"{hint}/{op.lower()}")], output if last else None, hint=hint)
    return x


def _channel_vector(g: GraphBuilder, weights, layer, what: str) -> str:
    """A per-channel (length C, or 1) parameter, shaped to broadcast over [N, C, H, W]."""
    values = weight_array(weights, None, f"{layer_label(layer)} {what}")
    if values.size == 0:
        raise UserError(f"{layer_label(layer)}: {what} is empty")
    return g.constant(values.reshape(-1, 1, 1), f"{layer.name}/{what}")


def convert_activation(layer, g: GraphBuilder) -> None:
    params = layer.activation
    kind = params.WhichOneof("NonlinearityType")
    x, out = layer.input[0], layer.output[0]
    simple = {"ReLU": "Relu", "tanh": "Tanh", "sigmoid": "Sigmoid", "softsign": "Softsign", "softplus": "Softplus"}
    if kind in simple:
        g.node(simple[kind], [x], out)
    elif kind == "linear":
        _scale_shift(g, x, params.linear.alpha, params.linear.beta, layer.name, out)
    elif kind == "leakyReLU":
        g.node("LeakyRelu", [x], out, alpha=params.leakyReLU.alpha)
    elif kind == "thresholdedReLU":
        keep = g.node("GreaterOrEqual", [x, g.constant(params.thresholdedReLU.alpha, f"{layer.name}/alpha")])
        g.node("Where", [keep, x, g.constant(0.0, f"{layer.name}/zero")], out)
    elif kind == "PReLU":
        g.node("PRelu", [x, _channel_vector(g, params.PReLU.alpha, layer, "alpha")], out)
    elif kind == "scaledTanh":
        inner = _scale_shift(g, x, params.scaledTanh.beta, 0.0, layer.name)
        _scale_shift(g, g.node("Tanh", [inner]), params.scaledTanh.alpha, 0.0, layer.name, out)
    elif kind == "sigmoidHard":
        g.node("HardSigmoid", [x], out, alpha=params.sigmoidHard.alpha, beta=params.sigmoidHard.beta)
    elif kind == "ELU":
        g.node("Elu", [x], out, alpha=params.ELU.alpha)
    elif kind == "parametricSoftplus":
        alpha = _channel_vector(g, params.parametricSoftplus.alpha, layer, "alpha")
        beta = _channel_vector(g, params.parametricSoftplus.beta, layer, "beta")
        g.node("Mul", [g.node("Softplus", [g.node("Mul", [x, beta])]), alpha], out)
    else:
        raise UserError(f"{layer_label(layer)}: activation {kind!r} is not supported by the Linux runner")


def _variadic(g: GraphBuilder, op: str, inputs: list[str], output: str) -> None:
    x = inputs[0]
    for index, other in enumerate(inputs[1:], start=1):
        x = g.node(op, [x, other], output if index == len(inputs) - 1 else None)


def convert_add(layer, g: GraphBuilder) -> None:
    if len(layer.input) == 1:
        _scale_shift(g, layer.input[0], 1.0, layer.add.alpha, layer.name, layer.output[0])
    else:
        _variadic(g, "Add", list(layer.input), layer.output[0])


def convert_multiply(layer, g: GraphBuilder) -> None:
    if len(layer.input) == 1:
        _scale_shift(g, layer.input[0], layer.multiply.alpha, 0.0, layer.name, layer.output[0])
    else:
        _variadic(g, "Mul", list(layer.input), layer.output[0])


def convert_average(layer, g: GraphBuilder) -> None:
    total = g.node("Sum", list(layer.input), hint=f"{layer.name}/sum")
    _scale_shift(g, total, 1.0 / len(layer.input), 0.0, layer.name, layer.output[0])


def _binary(op: str):
    def convert(layer, g: GraphBuilder) -> None:
        if len(layer.input) < 2:
            raise UserError(f"{layer_label(layer)}: needs at least 2 inputs")
        if op in ("Max", "Min"):
            g.node(op, list(layer.input), layer.output[0])
        elif len(layer.input) == 2:
            g.node(op, list(layer.input), layer.output[0])
        else:
            raise UserError(f"{layer_label(layer)}: needs exactly 2 inputs")
    return convert


SQRT, RSQRT, INVERSE, POWER, EXP, LOG, ABS, THRESHOLD = range(8)


def convert_unary(layer, g: GraphBuilder) -> None:
    params = layer.unary
    out = layer.output[0]
    x = _scale_shift(g, layer.input[0], params.scale or 1.0, params.shift, f"{layer.name}/prescale")
    epsilon = params.epsilon or 1e-6
    kind = params.type
    if kind == SQRT:
        g.node("Sqrt", [x], out)
    elif kind == RSQRT:
        shifted = g.node("Add", [x, g.constant(epsilon, f"{layer.name}/epsilon")])
        g.node("Reciprocal", [g.node("Sqrt", [shifted])], out)
    elif kind == INVERSE:
        g.node("Reciprocal", [g.node("Add", [x, g.constant(epsilon, f"{layer.name}/epsilon")])], out)
    elif kind == POWER:
        if params.alpha == 2.0:
            g.node("Mul", [x, x], out)
        else:
            g.node("Pow", [x, g.constant(params.alpha, f"{layer.name}/alpha")], out)
    elif kind == EXP:
        g.node("Exp", [x], out)
    elif kind == LOG:
        g.node("Log", [x], out)
    elif kind == ABS:
        g.node("Abs", [x], out)
    elif kind == THRESHOLD:
        g.node("Max", [x, g.constant(params.alpha, f"{layer.name}/alpha")], out)
    else:
        raise UserError(f"{layer_label(layer)}: unary function {kind} is not supported by the Linux runner")


def convert_clip(layer, g: GraphBuilder) -> None:
    params = layer.clip
    low = g.constant(np.float32(params.minVal), f"{layer.name}/min")
    high = g.constant(np.float32(params.maxVal), f"{layer.name}/max")
    g.node("Clip", [layer.input[0], low, high], layer.output[0])


HANDLERS = {
    "activation": convert_activation,
    "add": convert_add,
    "multiply": convert_multiply,
    "average": convert_average,
    "unary": convert_unary,
    "clip": convert_clip,
    "max": _binary("Max"),
    "min": _binary("Min"),
    "addBroadcastable": _binary("Add"),
    "subtractBroadcastable": _binary("Sub"),
    "multiplyBroadcastable": _binary("Mul"),
    "divideBroadcastable": _binary("Div"),
    "powBroadcastable": _binary("Pow"),
    "maxBroadcastable": _binary("Max"),
    "minBroadcastable": _binary("Min"),
}
