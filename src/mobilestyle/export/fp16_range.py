"""Keep a net's instance norms inside fp16's range before it goes to the phone.

An instance norm squares its input's deviations from each channel's mean. In a trained student those
squares reach about 1.4e7 at the first norm (benchmarks/norm_comparison.md), far past fp16's largest value,
65504: a phone computing in fp16 gets an infinite variance and the channel collapses to its shift. Instance
norm ignores the scale of its input, IN(s * x; s^2 * eps) = IN(x; eps), so multiplying the kernel (and
bias) of the layer in front of each norm by a power of two s, and the norm's epsilon by s^2, leaves the
function unchanged while the squares shrink by s^2. s is measured: the largest square the net produces on
calibration frames (photos scikit-image ships, a frame of noise and fine saturated checkerboards), with room
to spare for brighter or busier input. Powers of two scale fp16 and fp32 values exactly.

Batch norms are folded into the convolutions at export and never square anything, so only instance-norm
nets are touched.
"""

from __future__ import annotations

from dataclasses import dataclass

import keras
import numpy as np

from mobilestyle import frame
from mobilestyle.networks.transformer_net import InstanceNorm

FP16_MAX = 65504.0
SQUARE_HEADROOM = 16.0
"""The largest square after scaling stays 16x (4x in amplitude) below fp16's largest value."""
FP16_SMALLEST = 2.0**-24
"""fp16's smallest positive value: a scaled epsilon must not round to zero (0 * rsqrt(0) is NaN)."""


@dataclass(frozen=True)
class NormScale:
    norm: str
    layer: str
    largest_square: float
    exponent: int

    @property
    def scale(self) -> float:
        return 2.0**self.exponent

    @property
    def scaled_square(self) -> float:
        return self.largest_square * self.scale**2


CALIBRATION_PATTERNS = ((2, (255, 0, 0), (0, 255, 255)), (4, (0, 0, 255), (255, 255, 0)),
                        (4, (255, 255, 255), (0, 0, 0)))
"""Checkerboards (cell px, colour, colour) that raise a trained net's squares far above photos' (4-px
blue/yellow: 6.4x the largest on 8 BSDS photos, past fp16 itself, in `muse_instance` scaled for photos
alone; benchmarks/fp16_headroom.md), so the headroom also covers a camera pointed at a fine, saturated pattern."""


def checkerboard(cell: int, first: tuple[int, int, int], second: tuple[int, int, int],
                 width: int = frame.INPUT_WIDTH, height: int = frame.INPUT_HEIGHT) -> np.ndarray:
    """A (height, width, 3) uint8 checkerboard of `cell`-px squares in two colours."""
    y, x = np.mgrid[0:height, 0:width]
    on_first = ((x // cell + y // cell) % 2 == 0)[..., None]
    return np.where(on_first, np.array(first, np.uint8), np.array(second, np.uint8))


def calibration_frames(seed: int = 0) -> np.ndarray:
    """Three photos scikit-image ships, one of uniform noise and the `CALIBRATION_PATTERNS`, fitted to the
    model input: (7, 480, 853, 3)."""
    from skimage import data

    from mobilestyle.images import fit_frame

    photos = [fit_frame(image) for image in (data.astronaut(), data.coffee(), data.chelsea())]
    noise = np.random.default_rng(seed).integers(0, 256, photos[0].shape, dtype=np.uint8)
    patterns = [checkerboard(*pattern) for pattern in CALIBRATION_PATTERNS]
    return np.stack([*photos, noise, *patterns]).astype(np.float32)


def _producer(norm: keras.layers.Layer) -> keras.layers.Layer:
    layer = norm.input._keras_history.operation
    if not hasattr(layer, "kernel"):
        raise ValueError(f"{norm.name} follows {layer.name}, which has no kernel to rescale")
    return layer


def largest_squares(net: keras.Model, frames: np.ndarray) -> dict[str, float]:
    """The largest (x - channel mean)^2 each instance norm of `net` sees on `frames`, by norm name."""
    norms = [layer for layer in net.layers if isinstance(layer, InstanceNorm)]
    if not norms:
        return {}
    probe = keras.Model(net.input, [norm.input for norm in norms])
    largest = dict.fromkeys((norm.name for norm in norms), 0.0)
    for image in frames:
        outputs = probe(image[None], training=False)
        outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
        for norm, x in zip(norms, outputs):
            x = np.asarray(x, dtype=np.float64)
            deviation = x - x.mean(axis=(1, 2), keepdims=True)
            largest[norm.name] = max(largest[norm.name], float(np.max(deviation**2)))
    return largest


def fit_instance_norms_to_fp16(net: keras.Model, frames: np.ndarray | None = None) -> list[NormScale]:
    """Rescale `net` in place so its instance norms' squares fit fp16; returns what was done per norm."""
    norms = [layer for layer in net.layers if isinstance(layer, InstanceNorm)]
    if not norms:
        return []
    squares = largest_squares(net, calibration_frames() if frames is None else frames)
    scales = []
    for norm in norms:
        producer = _producer(norm)
        exponent = 0
        while squares[norm.name] * 4.0**exponent > FP16_MAX / SQUARE_HEADROOM:
            if norm.epsilon * 4.0 ** (exponent - 1) < FP16_SMALLEST:
                break
            exponent -= 1
        if exponent:
            factor = 2.0**exponent
            for weight in producer.weights:
                weight.assign(weight * factor)
            norm.epsilon = norm.epsilon * factor**2
        scales.append(NormScale(norm.name, producer.name, squares[norm.name], exponent))
    return scales


def describe(scales: list[NormScale]) -> str:
    """'conv1_norm x2^-6, out_norm x2^-3' for the rescaled norms ('' when none was), flagging any that the
    epsilon's floor kept from fitting."""
    return ", ".join(f"{s.norm} x2^{s.exponent}" + (f" (still {s.scaled_square:,.0f} > fp16's {FP16_MAX:,.0f})"
                                                   if s.scaled_square > FP16_MAX else "")
                     for s in scales if s.exponent)
