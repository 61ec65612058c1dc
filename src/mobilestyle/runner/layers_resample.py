"""Handlers for Core ML's resampling layers: `upsample` (nearest / bilinear) and `resizeBilinear`.

Bilinear layers are translated from the sampling grid that NeuralNetwork.proto defines for each
mode: the grid is computed here in float64, and when it equals the grid of an ONNX `Resize`
coordinate mode (half_pixel, align_corners, asymmetric; coordinates clamped to the input) that fast
op is used; any other grid is sampled exactly with Gather + lerp.
"""

from __future__ import annotations

import math

import numpy as np

from mobilestyle.errors import UserError
from mobilestyle.runner.layers_spatial import layer_label, rank4_shape
from mobilestyle.runner.onnx_builder import GraphBuilder

NEAREST, BILINEAR = 0, 1
LINEAR_DEFAULT, ALIGN_CORNERS_TRUE, ALIGN_CORNERS_FALSE = 0, 1, 2
STRICT_ALIGN_ENDPOINTS, ALIGN_ENDPOINTS, UPSAMPLE_MODE, ROI_ALIGN = 0, 1, 2, 3

_GRID_TOLERANCE = 1e-6


def upsample_output_size(size: int, factor: float) -> int:
    """Core ML's upsampled length: floor(size * factor), the factor being the spec's float32."""
    return int(math.floor(size * float(np.float32(factor))))


def upsample_grid(size_in: int, size_out: int, mode: int) -> np.ndarray:
    """Source coordinates of a bilinear `upsample` (UpsampleLayerParams.LinearUpsampleMode)."""
    index = np.arange(size_out, dtype=np.float64)
    if mode == ALIGN_CORNERS_TRUE:
        spacing = (size_in - 1) / (size_out - 1) if size_out > 1 else 0.0
        grid = index * spacing
    elif mode == ALIGN_CORNERS_FALSE:
        spacing = size_in / size_out
        grid = index * spacing + 0.5 * spacing - 0.5
    else:
        spacing = (size_in - size_in / size_out) / (size_out - 1) if size_out > 1 else 0.0
        grid = index * spacing
    return np.clip(grid, 0, size_in - 1)


def resize_bilinear_grid(size_in: int, size_out: int, method: int) -> np.ndarray:
    """Source coordinates of `resizeBilinear` (SamplingMode.Method)."""
    if method == STRICT_ALIGN_ENDPOINTS:
        return np.linspace(0, size_in - 1, size_out)
    if method == ALIGN_ENDPOINTS:
        if size_out == 1:
            return np.array([(size_in - 1) / 2])
        return np.linspace(0, size_in - 1, size_out)
    if method == UPSAMPLE_MODE:
        return np.minimum(size_in - 1, np.linspace(0, size_in - size_in / size_out, size_out))
    spacing = max(1, size_in - 1) / size_out
    start = 0.5 * spacing
    return np.minimum(size_in - 1, np.linspace(start, start + (size_out - 1) * spacing, size_out))


def _onnx_grid(size_in: int, size_out: int, mode: str) -> np.ndarray:
    """The clamped source coordinates that ONNX Runtime / OpenVINO use for a linear `Resize`."""
    index = np.arange(size_out, dtype=np.float64)
    scale = size_out / size_in
    if mode == "half_pixel":
        grid = (index + 0.5) / scale - 0.5
    elif mode == "align_corners":
        grid = index * (size_in - 1) / (size_out - 1) if size_out > 1 else np.zeros(1)
    else:
        grid = index / scale
    return np.clip(grid, 0, size_in - 1)


def _matching_resize_mode(grids: list[np.ndarray], sizes_in: tuple[int, int]) -> str | None:
    for mode in ("half_pixel", "align_corners", "asymmetric"):
        if all(np.allclose(grid, _onnx_grid(size_in, len(grid), mode), rtol=0, atol=_GRID_TOLERANCE)
               for grid, size_in in zip(grids, sizes_in)):
            return mode
    return None


def _sample_axis(g: GraphBuilder, x: str, grid: np.ndarray, axis: int, size_in: int, hint: str) -> str:
    """Linear interpolation of `x` along one axis at the given source coordinates."""
    lower = np.floor(grid).astype(np.int64)
    upper = np.minimum(lower + 1, size_in - 1)
    weight = (grid - lower).astype(np.float32)
    weight_shape = [-1] + [1] * (-1 - axis)
    low = g.node("Gather", [x, g.ints(lower, f"{hint}/lower")], hint=f"{hint}/low", axis=axis)
    if not np.any(weight):
        return low
    high = g.node("Gather", [x, g.ints(upper, f"{hint}/upper")], hint=f"{hint}/high", axis=axis)
    step = g.node("Mul", [g.node("Sub", [high, low]), g.constant(weight.reshape(weight_shape), f"{hint}/weight")])
    return g.node("Add", [low, step], hint=hint)


def bilinear_resample(g: GraphBuilder, x: str, output: str, grids: list[np.ndarray], hint: str) -> None:
    """Sample the last two axes of `x` bilinearly at the source coordinates `grids` (rows, columns)."""
    *leading, height, width = g.shape(x)
    mode = _matching_resize_mode(grids, (height, width))
    if mode is not None:
        sizes = g.ints([*leading, len(grids[0]), len(grids[1])], f"{hint}/sizes")
        g.node("Resize", [x, "", "", sizes], output, mode="linear", coordinate_transformation_mode=mode)
        return
    rows = _sample_axis(g, x, grids[0], -2, height, f"{hint}/rows")
    columns = _sample_axis(g, rows, grids[1], -1, width, f"{hint}/columns")
    g.node("Identity", [columns], output)


def _bilinear(g: GraphBuilder, layer, grids: list[np.ndarray]) -> None:
    rank4_shape(g, layer.input[0], layer)
    bilinear_resample(g, layer.input[0], layer.output[0], grids, layer.name)


def convert_upsample(layer, g: GraphBuilder) -> None:
    params = layer.upsample
    batch, channels, height, width = rank4_shape(g, layer.input[0], layer)
    if len(params.fractionalScalingFactor):
        factors = [float(f) for f in params.fractionalScalingFactor]
        if len(factors) != 2 or min(factors) <= 0:
            raise UserError(f"{layer_label(layer)}: fractionalScalingFactor needs two positive values")
        if params.mode != BILINEAR:
            raise UserError(f"{layer_label(layer)}: nearest upsample with fractional factors is not supported")
        sizes_out = (upsample_output_size(height, factors[0]), upsample_output_size(width, factors[1]))
    else:
        factors = [int(f) for f in params.scalingFactor] or [1, 1]
        if len(factors) != 2 or min(factors) < 1:
            raise UserError(f"{layer_label(layer)}: scalingFactor needs two positive integers")
        sizes_out = (height * factors[0], width * factors[1])
    if params.mode == NEAREST:
        sizes = g.ints([batch, channels, *sizes_out], f"{layer.name}/sizes")
        g.node("Resize", [layer.input[0], "", "", sizes], layer.output[0], mode="nearest",
               coordinate_transformation_mode="asymmetric", nearest_mode="floor")
        return
    grids = [upsample_grid(size_in, size_out, params.linearUpsampleMode)
             for size_in, size_out in zip((height, width), sizes_out)]
    _bilinear(g, layer, grids)


def convert_resize_bilinear(layer, g: GraphBuilder) -> None:
    params = layer.resizeBilinear
    _, _, height, width = rank4_shape(g, layer.input[0], layer)
    targets = [int(t) for t in params.targetSize] or [1, 1]
    if len(targets) != 2 or min(targets) < 1:
        raise UserError(f"{layer_label(layer)}: targetSize needs two positive integers")
    method = params.mode.samplingMethod
    grids = [resize_bilinear_grid(size_in, size_out, method) for size_in, size_out in zip((height, width), targets)]
    _bilinear(g, layer, grids)


HANDLERS = {
    "upsample": convert_upsample,
    "resizeBilinear": convert_resize_bilinear,
}
