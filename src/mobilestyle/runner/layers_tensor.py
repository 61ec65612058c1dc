"""Handlers for Core ML's rank-N tensor layers: constants, transposes, slices, reshapes, reductions."""

from __future__ import annotations

import numpy as np

from mobilestyle.errors import UserError
from mobilestyle.runner.layers_spatial import layer_label
from mobilestyle.runner.onnx_builder import GraphBuilder
from mobilestyle.runner.weights import weight_array

_INT64_MIN = np.iinfo(np.int64).min
_INT64_MAX = np.iinfo(np.int64).max


def convert_load_constant_nd(layer, g: GraphBuilder) -> None:
    params = layer.loadConstantND
    shape = tuple(int(d) for d in params.shape)
    g.constant(weight_array(params.data, shape, layer_label(layer)), layer.output[0], exact_name=True)


def convert_transpose(layer, g: GraphBuilder) -> None:
    axes = [int(a) for a in layer.transpose.axes]
    if sorted(axes) != list(range(len(g.shape(layer.input[0])))):
        raise UserError(f"{layer_label(layer)}: axes {axes} are not a permutation of the input's axes")
    g.node("Transpose", [layer.input[0]], layer.output[0], perm=axes)


def convert_slice_static(layer, g: GraphBuilder) -> None:
    params = layer.sliceStatic
    shape = g.shape(layer.input[0])
    rank = len(shape)
    fields = (params.beginIds, params.beginMasks, params.endIds, params.endMasks, params.strides)
    if any(len(field) != rank for field in fields):
        raise UserError(f"{layer_label(layer)}: slice parameters must have one entry per input axis ({rank})")
    starts, ends = [], []
    for begin, begin_mask, end, end_mask, stride in zip(*fields):
        if stride == 0:
            raise UserError(f"{layer_label(layer)}: slice stride must not be 0")
        if stride > 0:
            starts.append(0 if begin_mask else int(begin))
            ends.append(_INT64_MAX if end_mask else int(end))
        else:
            starts.append(-1 if begin_mask else int(begin))
            ends.append(_INT64_MIN if end_mask else int(end))
    sliced_name = None if any(params.squeezeMasks) else layer.output[0]
    sliced = g.node("Slice", [layer.input[0], g.ints(starts, f"{layer.name}/starts"),
                              g.ints(ends, f"{layer.name}/ends"), g.ints(range(rank), f"{layer.name}/axes"),
                              g.ints(params.strides, f"{layer.name}/steps")], sliced_name, hint=f"{layer.name}/sliced")
    if sliced_name is None:
        axes = [axis for axis, squeeze in enumerate(params.squeezeMasks) if squeeze]
        g.node("Squeeze", [sliced, g.ints(axes, f"{layer.name}/squeeze_axes")], layer.output[0])


CHANNEL_AXIS, HEIGHT_AXIS, WIDTH_AXIS = 0, 1, 2


def convert_slice(layer, g: GraphBuilder) -> None:
    params = layer.slice
    axis = {CHANNEL_AXIS: -3, HEIGHT_AXIS: -2, WIDTH_AXIS: -1}[params.axis]
    if len(g.shape(layer.input[0])) < -axis:
        raise UserError(f"{layer_label(layer)}: the input has no axis {axis}")
    g.node("Slice", [layer.input[0], g.ints([params.startIndex], f"{layer.name}/starts"),
                     g.ints([params.endIndex], f"{layer.name}/ends"), g.ints([axis], f"{layer.name}/axes"),
                     g.ints([params.stride or 1], f"{layer.name}/steps")], layer.output[0])


def convert_expand_dims(layer, g: GraphBuilder) -> None:
    axes = [int(a) for a in layer.expandDims.axes]
    g.node("Unsqueeze", [layer.input[0], g.ints(axes, f"{layer.name}/axes")], layer.output[0])


def convert_squeeze(layer, g: GraphBuilder) -> None:
    params = layer.squeeze
    shape = g.shape(layer.input[0])
    if params.squeezeAll:
        axes = [axis for axis, size in enumerate(shape) if size == 1]
    else:
        axes = [int(a) for a in params.axes]
    g.node("Squeeze", [layer.input[0], g.ints(axes, f"{layer.name}/axes")], layer.output[0])


def convert_reshape_static(layer, g: GraphBuilder) -> None:
    target = [int(d) for d in layer.reshapeStatic.targetShape]
    g.node("Reshape", [layer.input[0], g.ints(target, f"{layer.name}/shape")], layer.output[0])


def convert_tile(layer, g: GraphBuilder) -> None:
    reps = [int(r) for r in layer.tile.reps]
    rank = len(g.shape(layer.input[0]))
    if len(reps) == 1:
        reps = reps * rank
    if len(reps) != rank:
        raise UserError(f"{layer_label(layer)}: reps {reps} do not match the input rank {rank}")
    g.node("Tile", [layer.input[0], g.ints(reps, f"{layer.name}/reps")], layer.output[0])


def convert_reduce_mean(layer, g: GraphBuilder) -> None:
    params = layer.reduceMean
    rank = len(g.shape(layer.input[0]))
    axes = list(range(rank)) if params.reduceAll else [int(a) for a in params.axes]
    g.node("ReduceMean", [layer.input[0]], layer.output[0], axes=axes, keepdims=int(params.keepDims))


HANDLERS = {
    "loadConstantND": convert_load_constant_nd,
    "transpose": convert_transpose,
    "sliceStatic": convert_slice_static,
    "slice": convert_slice,
    "expandDims": convert_expand_dims,
    "squeeze": convert_squeeze,
    "reshapeStatic": convert_reshape_static,
    "tile": convert_tile,
    "reduceMean": convert_reduce_mean,
}
