"""Handlers for Core ML's spatial layers: convolution, padding, pooling, normalization, cropping.

Each handler reads one `NeuralNetworkLayer` and adds equivalent ONNX nodes to a `GraphBuilder`.
Semantics follow coremltools' NeuralNetwork.proto: tensors are [batch, C, H, W] and the
"channel/height/width" of a layer are axes -3/-2/-1.
"""

from __future__ import annotations

import math

import numpy as np

from mobilestyle.errors import UserError
from mobilestyle.runner.onnx_builder import GraphBuilder
from mobilestyle.runner.weights import weight_array

BOTTOM_RIGHT_HEAVY, TOP_LEFT_HEAVY = 0, 1


def layer_label(layer) -> str:
    return f"{layer.WhichOneof('layer')} layer {layer.name!r}"


def rank4_shape(g: GraphBuilder, name: str, layer) -> tuple[int, int, int, int]:
    shape = g.shape(name)
    if len(shape) != 4:
        raise UserError(f"{layer_label(layer)}: the Linux runner needs a rank-4 [N, C, H, W] input, got {shape}")
    return shape


def _pair(values, default: tuple[int, int]) -> tuple[int, int]:
    values = tuple(int(v) for v in values)
    return values if len(values) == 2 else default


def _border_amounts(border) -> tuple[int, int, int, int]:
    """(top, left, bottom, right) of a `BorderAmounts` message; missing entries are 0."""
    edges = list(border.borderAmounts) + [None] * (2 - len(border.borderAmounts))
    top, bottom = (edges[0].startEdgeSize, edges[0].endEdgeSize) if edges[0] else (0, 0)
    left, right = (edges[1].startEdgeSize, edges[1].endEdgeSize) if edges[1] else (0, 0)
    return int(top), int(left), int(bottom), int(right)


def split_padding(total: int, asymmetry: int) -> tuple[int, int]:
    """(start, end) of a total 'same' padding; BOTTOM_RIGHT_HEAVY puts the odd pixel at the end."""
    if asymmetry == TOP_LEFT_HEAVY:
        end = total // 2
        return total - end, end
    start = total // 2
    return start, total - start


def same_pads(sizes, kernel, stride, dilation, asymmetry) -> list[int]:
    starts, ends = [], []
    for size, k, s, d in zip(sizes, kernel, stride, dilation):
        out = math.ceil(size / s)
        total = max(0, (out - 1) * s + (k - 1) * d + 1 - size)
        start, end = split_padding(total, asymmetry)
        starts.append(start)
        ends.append(end)
    return starts + ends


def convert_convolution(layer, g: GraphBuilder) -> None:
    params = layer.convolution
    if len(layer.input) != 1:
        raise UserError(f"{layer_label(layer)}: convolution weights given as an input are not supported")
    _, _, height, width = rank4_shape(g, layer.input[0], layer)
    groups = int(params.nGroups) or 1
    kernel = _pair(params.kernelSize, (3, 3))
    stride = _pair(params.stride, (1, 1))
    dilation = _pair(params.dilationFactor, (1, 1))
    if params.isDeconvolution:
        weight_shape = (int(params.kernelChannels), int(params.outputChannels) // groups, *kernel)
    else:
        weight_shape = (int(params.outputChannels), int(params.kernelChannels), *kernel)
    inputs = [layer.input[0], g.constant(weight_array(params.weights, weight_shape, layer_label(layer)),
                                         f"{layer.name}/weights")]
    if params.hasBias:
        bias = weight_array(params.bias, (int(params.outputChannels),), layer_label(layer))
        inputs.append(g.constant(bias, f"{layer.name}/bias"))
    if params.isDeconvolution:
        pads, output_padding = _deconvolution_pads(params, (height, width), kernel, stride, layer)
        g.node("ConvTranspose", inputs, layer.output[0], kernel_shape=list(kernel), strides=list(stride),
               group=groups, pads=pads, output_padding=output_padding)
        return
    if params.WhichOneof("ConvolutionPaddingType") == "same":
        pads = same_pads((height, width), kernel, stride, dilation, params.same.asymmetryMode)
    else:
        top, left, bottom, right = _border_amounts(params.valid.paddingAmounts)
        pads = [top, left, bottom, right]
    g.node("Conv", inputs, layer.output[0], kernel_shape=list(kernel), strides=list(stride),
           dilations=list(dilation), group=groups, pads=pads)


def _deconvolution_pads(params, sizes, kernel, stride, layer) -> tuple[list[int], list[int]]:
    """ONNX pads and output_padding that give the Core ML deconvolution's output size and alignment.

    The full transposed convolution is (in - 1) * stride + kernel long; Core ML crops it to the
    output size (outputShape, or in * stride for 'same'), splitting the crop like 'same' padding.
    """
    padding_type = params.WhichOneof("ConvolutionPaddingType")
    if not len(params.outputShape) and padding_type != "same":
        top, left, bottom, right = _border_amounts(params.valid.paddingAmounts)
        return [top, left, bottom, right], [0, 0]
    if len(params.outputShape):
        targets = _pair(params.outputShape, (0, 0))
    else:
        targets = (sizes[0] * stride[0], sizes[1] * stride[1])
    asymmetry = params.same.asymmetryMode if padding_type == "same" else BOTTOM_RIGHT_HEAVY
    starts, ends, extra = [], [], []
    for size, k, s, target in zip(sizes, kernel, stride, targets):
        total = (size - 1) * s + k - target
        if total < 0 and -total >= s:
            raise UserError(f"{layer_label(layer)}: output size {target} is out of reach for input {size}")
        start, end = split_padding(max(total, 0), asymmetry)
        starts.append(start)
        ends.append(end)
        extra.append(max(-total, 0))
    return starts + ends, extra


def convert_padding(layer, g: GraphBuilder) -> None:
    params = layer.padding
    rank = len(g.shape(layer.input[0]))
    if rank < 2:
        raise UserError(f"{layer_label(layer)}: padding needs a rank >= 2 input")
    top, left, bottom, right = _border_amounts(params.paddingAmounts)
    pads = [0] * (rank - 2) + [top, left] + [0] * (rank - 2) + [bottom, right]
    kind = params.WhichOneof("PaddingType")
    if kind == "reflection":
        height, width = g.shape(layer.input[0])[-2:]
        if max(top, bottom) >= height or max(left, right) >= width:
            raise UserError(f"{layer_label(layer)}: reflection padding must be smaller than the input")
        g.node("Pad", [layer.input[0], g.ints(pads, f"{layer.name}/pads")], layer.output[0], mode="reflect")
    elif kind == "replication":
        g.node("Pad", [layer.input[0], g.ints(pads, f"{layer.name}/pads")], layer.output[0], mode="edge")
    else:
        value = g.constant(params.constant.value, f"{layer.name}/value")
        g.node("Pad", [layer.input[0], g.ints(pads, f"{layer.name}/pads"), value], layer.output[0],
               mode="constant")


AVERAGE, MAX, L2 = 1, 0, 2


def convert_pooling(layer, g: GraphBuilder) -> None:
    params = layer.pooling
    _, _, height, width = rank4_shape(g, layer.input[0], layer)
    if params.globalPooling:
        op = {AVERAGE: "GlobalAveragePool", MAX: "GlobalMaxPool", L2: "GlobalLpPool"}[params.type]
        attributes = {"p": 2} if params.type == L2 else {}
        g.node(op, [layer.input[0]], layer.output[0], **attributes)
        return
    kernel = _pair(params.kernelSize, (3, 3))
    stride = _pair(params.stride, (1, 1))
    padding_type = params.WhichOneof("PoolingPaddingType")
    if padding_type == "includeLastPixel":
        raise UserError(f"{layer_label(layer)}: pooling with includeLastPixel padding is not supported")
    if padding_type == "same":
        pads = same_pads((height, width), kernel, stride, (1, 1), params.same.asymmetryMode)
    else:
        top, left, bottom, right = _border_amounts(params.valid.paddingAmounts)
        pads = [top, left, bottom, right]
    common = {"kernel_shape": list(kernel), "strides": list(stride), "pads": pads}
    if params.type == AVERAGE:
        g.node("AveragePool", [layer.input[0]], layer.output[0],
               count_include_pad=0 if params.avgPoolExcludePadding else 1, **common)
    elif params.type == MAX:
        g.node("MaxPool", [layer.input[0]], layer.output[0], **common)
    else:
        g.node("LpPool", [layer.input[0]], layer.output[0], p=2, **common)


def convert_batchnorm(layer, g: GraphBuilder) -> None:
    params = layer.batchnorm
    channels = int(params.channels)
    label = layer_label(layer)
    epsilon = params.epsilon or 1e-5
    gamma = weight_array(params.gamma, (channels,), label)
    beta = weight_array(params.beta, (channels,), label)
    x = layer.input[0]
    if params.computeMeanVar:
        rank = len(g.shape(x))
        if rank < 3:
            raise UserError(f"{label}: batchnorm needs a rank >= 3 input")
        axes = [rank - 2, rank - 1] if params.instanceNormalization else [i for i in range(rank) if i != rank - 3]
        mean = g.node("ReduceMean", [x], hint=f"{layer.name}/mean", axes=axes, keepdims=1)
        centered = g.node("Sub", [x, mean], hint=f"{layer.name}/centered")
        variance = g.node("ReduceMean", [g.node("Mul", [centered, centered], hint=f"{layer.name}/squared")],
                          hint=f"{layer.name}/variance", axes=axes, keepdims=1)
        shifted = g.node("Add", [variance, g.constant(epsilon, f"{layer.name}/epsilon")])
        normalized = g.node("Div", [centered, g.node("Sqrt", [shifted])], hint=f"{layer.name}/normalized")
        scaled = g.node("Mul", [normalized, g.constant(gamma.reshape(channels, 1, 1), f"{layer.name}/gamma")])
        g.node("Add", [scaled, g.constant(beta.reshape(channels, 1, 1), f"{layer.name}/beta")], layer.output[0])
        return
    mean = weight_array(params.mean, (channels,), label).astype(np.float64)
    variance = weight_array(params.variance, (channels,), label).astype(np.float64)
    scale = gamma / np.sqrt(variance + epsilon)
    shift = beta - mean * scale
    scaled = g.node("Mul", [x, g.constant(scale.reshape(channels, 1, 1), f"{layer.name}/scale")])
    g.node("Add", [scaled, g.constant(shift.reshape(channels, 1, 1), f"{layer.name}/shift")], layer.output[0])


def convert_crop(layer, g: GraphBuilder) -> None:
    params = layer.crop
    height, width = g.shape(layer.input[0])[-2:]
    if len(layer.input) == 2:
        out_height, out_width = g.shape(layer.input[1])[-2:]
        top, left = _pair(params.offset, (0, 0))
        bottom, right = height - top - out_height, width - left - out_width
    else:
        top, left, bottom, right = _border_amounts(params.cropAmounts)
    if min(top, left, bottom, right) < 0 or top + bottom >= height or left + right >= width:
        raise UserError(f"{layer_label(layer)}: crop amounts do not fit the {height}x{width} input")
    g.node("Slice", [layer.input[0], g.ints([top, left], f"{layer.name}/starts"),
                     g.ints([height - bottom, width - right], f"{layer.name}/ends"),
                     g.ints([-2, -1], f"{layer.name}/axes")], layer.output[0])


HANDLERS = {
    "convolution": convert_convolution,
    "padding": convert_padding,
    "pooling": convert_pooling,
    "batchnorm": convert_batchnorm,
    "crop": convert_crop,
}
