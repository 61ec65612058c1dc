"""Handlers for ML program (MIL, iOS15 opset) spatial ops: convolutions, padding, resampling, normalization.

Tensors are [N, C, *spatial]; resampling ops act on the last two axes. Semantics follow coremltools'
`converters.mil.mil.ops.defs.iOS15` docs: "same" convolution padding puts the odd pixel at the end
(as TensorFlow does; "same_lower" at the start), and the bilinear sampling grids are the ones those
docs give for each mode, shared with the NeuralNetwork handlers in `layers_resample`.
"""

from __future__ import annotations

import numpy as np

from mobilestyle.errors import UserError
from mobilestyle.runner.layers_resample import (
    ALIGN_CORNERS_FALSE, ALIGN_CORNERS_TRUE, ALIGN_ENDPOINTS, ROI_ALIGN, STRICT_ALIGN_ENDPOINTS, UPSAMPLE_MODE,
    bilinear_resample, resize_bilinear_grid, upsample_grid, upsample_output_size)
from mobilestyle.runner.layers_spatial import BOTTOM_RIGHT_HEAVY, TOP_LEFT_HEAVY, same_pads, split_padding
from mobilestyle.runner.mil_program import MilOperation
from mobilestyle.runner.onnx_builder import GraphBuilder

CONV_PAD_TYPES = ("valid", "same", "same_lower", "custom")
PAD_MODES = {"constant": "constant", "reflect": "reflect", "replicate": "edge"}


def _spatial_shape(op: MilOperation, g: GraphBuilder, x: str, min_rank: int = 3) -> tuple[int, ...]:
    shape = g.shape(x)
    if len(shape) < min_rank:
        raise UserError(f"{op.label}: needs an input of rank >= {min_rank}, got shape {shape}")
    return shape


def _pair_list(op: MilOperation, key: str, count: int, default: int) -> list[int]:
    values = op.ints(key, [default] * count)
    if len(values) != count:
        raise UserError(f"{op.label}: {key} needs {count} values, got {values}")
    return values


def _custom_pads(op: MilOperation, count: int) -> tuple[list[int], list[int]]:
    """(begins, ends) of a MIL `pad` argument [begin0, end0, begin1, end1, ...]."""
    pad = op.ints("pad", [0] * 2 * count)
    if len(pad) != 2 * count:
        raise UserError(f"{op.label}: pad needs {2 * count} values, got {pad}")
    return pad[0::2], pad[1::2]


def _conv_parameters(op: MilOperation, g: GraphBuilder):
    x, weight = op.tensor(g, "x"), op.tensor(g, "weight")
    shape = _spatial_shape(op, g, x)
    spatial = len(shape) - 2
    kernel = list(g.shape(weight)[2:])
    if len(kernel) != spatial:
        raise UserError(f"{op.label}: weight shape {g.shape(weight)} does not fit input shape {shape}")
    strides = _pair_list(op, "strides", spatial, 1)
    dilations = _pair_list(op, "dilations", spatial, 1)
    groups = int(op.scalar("groups", 1))
    inputs = [x, weight] + ([op.tensor(g, "bias")] if op.has("bias") else [])
    return inputs, list(shape[2:]), kernel, strides, dilations, groups


def convert_conv(op: MilOperation, g: GraphBuilder) -> None:
    inputs, sizes, kernel, strides, dilations, groups = _conv_parameters(op, g)
    pad_type = op.scalar("pad_type", "valid")
    if pad_type == "valid":
        pads = [0] * (2 * len(sizes))
    elif pad_type == "custom":
        begins, ends = _custom_pads(op, len(sizes))
        pads = begins + ends
    elif pad_type in ("same", "same_lower"):
        asymmetry = BOTTOM_RIGHT_HEAVY if pad_type == "same" else TOP_LEFT_HEAVY
        pads = same_pads(sizes, kernel, strides, dilations, asymmetry)
    else:
        raise UserError(f"{op.label}: pad_type {pad_type!r} is not one of {', '.join(CONV_PAD_TYPES)}")
    g.node("Conv", inputs, op.output, kernel_shape=kernel, strides=strides, dilations=dilations, group=groups,
           pads=pads)


def convert_conv_transpose(op: MilOperation, g: GraphBuilder) -> None:
    """The full transposed convolution, (in - 1) * stride + (kernel - 1) * dilation + 1 long, cropped to
    the output size: output_shape when given, else in * stride ("same"), the full length ("valid") or
    the full length less the custom pads. Without custom pads the crop is split like "same" padding."""
    inputs, sizes, kernel, strides, dilations, groups = _conv_parameters(op, g)
    pad_type = op.scalar("pad_type", "valid")
    if pad_type not in ("valid", "same", "custom"):
        raise UserError(f"{op.label}: pad_type {pad_type!r} is not one of valid, same, custom")
    full = [(size - 1) * s + (k - 1) * d + 1 for size, k, s, d in zip(sizes, kernel, strides, dilations)]
    begins, ends = _custom_pads(op, len(sizes)) if pad_type == "custom" else ([0] * len(sizes), [0] * len(sizes))
    if op.has("output_shape"):
        targets = op.ints("output_shape")[-len(sizes):]
    elif pad_type == "same":
        targets = [size * s for size, s in zip(sizes, strides)]
    else:
        targets = [length - begin - end for length, begin, end in zip(full, begins, ends)]
    starts, stops, output_padding = [], [], []
    for axis, (length, target) in enumerate(zip(full, targets)):
        crop = length - target
        start = begins[axis] if pad_type == "custom" else split_padding(max(crop, 0), BOTTOM_RIGHT_HEAVY)[0]
        stop = crop - start
        extra = max(-stop, 0)
        if start < 0 or extra >= max(strides[axis], dilations[axis]):
            raise UserError(f"{op.label}: output size {target} is out of reach for input size {sizes[axis]}")
        starts.append(start)
        stops.append(max(stop, 0))
        output_padding.append(extra)
    g.node("ConvTranspose", inputs, op.output, kernel_shape=kernel, strides=strides, dilations=dilations,
           group=groups, pads=starts + stops, output_padding=output_padding)


def convert_pad(op: MilOperation, g: GraphBuilder) -> None:
    """Pads the last len(pad) / 2 axes: pad = [begin, end] per axis."""
    x = op.tensor(g, "x")
    shape = g.shape(x)
    pad = op.ints("pad")
    if len(pad) % 2 or len(pad) // 2 > len(shape):
        raise UserError(f"{op.label}: pad {pad} does not fit an input of rank {len(shape)}")
    untouched = [0] * (len(shape) - len(pad) // 2)
    begins, ends = untouched + pad[0::2], untouched + pad[1::2]
    mode = op.scalar("mode", "constant")
    if mode not in PAD_MODES:
        raise UserError(f"{op.label}: pad mode {mode!r} is not one of {', '.join(PAD_MODES)}")
    if mode == "reflect" and any(max(b, e) >= size for b, e, size in zip(begins, ends, shape)):
        raise UserError(f"{op.label}: reflect padding {pad} must be smaller than the input {shape}")
    inputs = [x, g.ints(begins + ends, f"{op.output}/pads")]
    if mode == "constant":
        inputs.append(g.constant(np.float32(op.scalar("constant_val", 0.0)), f"{op.output}/constant_val"))
    g.node("Pad", inputs, op.output, mode=PAD_MODES[mode])


def _nearest(op: MilOperation, g: GraphBuilder, x: str, size_out: tuple[int, int]) -> None:
    """Nearest neighbour: output pixel i reads input pixel floor(i * size_in / size_out)."""
    leading = list(g.shape(x)[:-2])
    if min(size_out) < 1:
        raise UserError(f"{op.label}: output size {size_out} must be positive")
    sizes = g.ints([*leading, *size_out], f"{op.output}/sizes")
    g.node("Resize", [x, "", "", sizes], op.output, mode="nearest", coordinate_transformation_mode="asymmetric",
           nearest_mode="floor")


def _scaled_sizes(op: MilOperation, shape: tuple[int, ...]) -> tuple[int, int]:
    factors = (float(op.scalar("scale_factor_height", 1)), float(op.scalar("scale_factor_width", 1)))
    if min(factors) <= 0:
        raise UserError(f"{op.label}: scale factors {factors} must be positive")
    return upsample_output_size(shape[-2], factors[0]), upsample_output_size(shape[-1], factors[1])


def _target_sizes(op: MilOperation) -> tuple[int, int]:
    return int(op.scalar("target_size_height", 1)), int(op.scalar("target_size_width", 1))


def convert_resize_nearest_neighbor(op: MilOperation, g: GraphBuilder) -> None:
    x = op.tensor(g, "x")
    _spatial_shape(op, g, x)
    _nearest(op, g, x, _target_sizes(op))


def convert_upsample_nearest_neighbor(op: MilOperation, g: GraphBuilder) -> None:
    x = op.tensor(g, "x")
    _nearest(op, g, x, _scaled_sizes(op, _spatial_shape(op, g, x)))


def _bilinear(op: MilOperation, g: GraphBuilder, x: str, size_out: tuple[int, int], grid) -> None:
    if min(size_out) < 1:
        raise UserError(f"{op.label}: output size {size_out} must be positive")
    size_in = g.shape(x)[-2:]
    grids = [grid(before, after) for before, after in zip(size_in, size_out)]
    bilinear_resample(g, x, op.output, grids, op.output)


def convert_upsample_bilinear(op: MilOperation, g: GraphBuilder) -> None:
    """align_corners=False samples like tf.image.resize (half-pixel centers); True like align_corners."""
    x = op.tensor(g, "x")
    size_out = _scaled_sizes(op, _spatial_shape(op, g, x))
    mode = ALIGN_CORNERS_TRUE if op.scalar("align_corners", True) else ALIGN_CORNERS_FALSE
    _bilinear(op, g, x, size_out, lambda before, after: upsample_grid(before, after, mode))


RESIZE_BILINEAR_MODES = {
    "STRICT_ALIGN_CORNERS": lambda before, after: resize_bilinear_grid(before, after, STRICT_ALIGN_ENDPOINTS),
    "ALIGN_CORNERS": lambda before, after: resize_bilinear_grid(before, after, ALIGN_ENDPOINTS),
    "DEFAULT": lambda before, after: resize_bilinear_grid(before, after, UPSAMPLE_MODE),
    "OFFSET_CORNERS": lambda before, after: resize_bilinear_grid(before, after, ROI_ALIGN),
    "UNALIGN_CORNERS": lambda before, after: upsample_grid(before, after, ALIGN_CORNERS_FALSE),
}


def convert_resize_bilinear(op: MilOperation, g: GraphBuilder) -> None:
    x = op.tensor(g, "x")
    _spatial_shape(op, g, x)
    mode = op.scalar("sampling_mode", "DEFAULT")
    if mode not in RESIZE_BILINEAR_MODES:
        raise UserError(f"{op.label}: sampling_mode {mode!r} is not one of {', '.join(RESIZE_BILINEAR_MODES)}")
    _bilinear(op, g, x, _target_sizes(op), RESIZE_BILINEAR_MODES[mode])


def _channel_constant(op: MilOperation, key: str, channels: int, rank: int, default: float | None) -> np.ndarray:
    """A per-channel constant shaped to broadcast over [N, C, *spatial]; required when `default` is None."""
    value = op.constant(key) if default is None else op.constant(key, np.full(channels, default))
    values = np.asarray(value, dtype=np.float64).ravel()
    if values.size != channels:
        raise UserError(f"{op.label}: {key} has {values.size} values, the input has {channels} channels")
    return values.reshape((channels,) + (1,) * (rank - 2))


def convert_instance_norm(op: MilOperation, g: GraphBuilder) -> None:
    """(x - mean) / sqrt(variance + epsilon) * gamma + beta, statistics over the spatial axes."""
    x = op.tensor(g, "x")
    shape = _spatial_shape(op, g, x)
    rank, channels = len(shape), shape[1]
    gamma = _channel_constant(op, "gamma", channels, rank, 1.0)
    beta = _channel_constant(op, "beta", channels, rank, 0.0)
    epsilon = float(op.scalar("epsilon", 1e-5))
    axes = list(range(2, rank))
    hint = op.output
    mean = g.node("ReduceMean", [x], hint=f"{hint}/mean", axes=axes, keepdims=1)
    centered = g.node("Sub", [x, mean], hint=f"{hint}/centered")
    variance = g.node("ReduceMean", [g.node("Mul", [centered, centered], hint=f"{hint}/squared")],
                      hint=f"{hint}/variance", axes=axes, keepdims=1)
    shifted = g.node("Add", [variance, g.constant(np.float32(epsilon), f"{hint}/epsilon")])
    normalized = g.node("Div", [centered, g.node("Sqrt", [shifted])], hint=f"{hint}/normalized")
    scaled = g.node("Mul", [normalized, g.constant(gamma, f"{hint}/gamma")])
    g.node("Add", [scaled, g.constant(beta, f"{hint}/beta")], op.output)


def convert_batch_norm(op: MilOperation, g: GraphBuilder) -> None:
    """(x - mean) / sqrt(variance + epsilon) * gamma + beta with constant statistics, folded to x * a + b."""
    x = op.tensor(g, "x")
    shape = _spatial_shape(op, g, x, min_rank=2)
    rank, channels = len(shape), shape[1]
    mean = _channel_constant(op, "mean", channels, rank, None)
    variance = _channel_constant(op, "variance", channels, rank, None)
    gamma = _channel_constant(op, "gamma", channels, rank, 1.0)
    beta = _channel_constant(op, "beta", channels, rank, 0.0)
    scale = gamma / np.sqrt(variance + float(op.scalar("epsilon", 1e-5)))
    scaled = g.node("Mul", [x, g.constant(scale, f"{op.output}/scale")])
    g.node("Add", [scaled, g.constant(beta - mean * scale, f"{op.output}/shift")], op.output)


HANDLERS = {
    "conv": convert_conv,
    "conv_transpose": convert_conv_transpose,
    "pad": convert_pad,
    "resize_nearest_neighbor": convert_resize_nearest_neighbor,
    "upsample_nearest_neighbor": convert_upsample_nearest_neighbor,
    "upsample_bilinear": convert_upsample_bilinear,
    "resize_bilinear": convert_resize_bilinear,
    "instance_norm": convert_instance_norm,
    "batch_norm": convert_batch_norm,
}
