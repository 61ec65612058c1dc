"""Temporal stability of stylized video: the warping error between consecutive frames, and a damper.

Measure (Lai et al., "Learning Blind Video Temporal Consistency", ECCV 2018). For each pair of
consecutive *input* frames t, t+1, dense optical flow is computed both ways with OpenCV's DIS optical
flow (preset medium, on grey levels). The stylized frame t+1 is warped back onto frame t along the
forward flow, and compared with the stylized frame t over the pixels the flow can be trusted for: a
pixel is masked out when it flows out of the frame, or when the forward and backward flows disagree
(|f + b|^2 > 0.01 (|f|^2 + |b|^2) + 0.5, the forward-backward check of Sundaram et al. 2010 / Ruder et
al. 2016), which catches occlusions and unreliable flow. The pair's warping error is the mean squared
difference over the kept pixels, RGB scaled to [0, 1]; a clip's is the mean over its pairs.

The same measure on the input frames themselves is the floor: lighting changes, motion blur and the
flow's own residue cost that much even for a filter that adds no flicker. Stylized frames of another
size than the input (an exported model's 1080p) are area-averaged to the input's size first.

`FlowDamper` is the runtime side: each stylized frame is blended with the previous *output* warped along
the input's flow, on the pixels that pass the same check (elsewhere the new frame is kept as is). It uses
DIS's fast preset (about 15x cheaper than medium here), so it does not simply undo the measure's own flow.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import cv2
import numpy as np

FB_RELATIVE = 0.01
FB_ABSOLUTE = 0.5


def _grey(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(np.ascontiguousarray(rgb, dtype=np.uint8), cv2.COLOR_RGB2GRAY)


def _dis(preset: int = cv2.DISOPTICAL_FLOW_PRESET_MEDIUM) -> cv2.DISOpticalFlow:
    return cv2.DISOpticalFlow_create(preset)


@functools.lru_cache(maxsize=8)
def _grid(height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    grid_x, grid_y = np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32))
    grid_x.flags.writeable = grid_y.flags.writeable = False
    return grid_x, grid_y


def sample(image: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """`image` sampled at x + flow(x) for every pixel x (bilinear, edges replicated; same dtype as `image`)."""
    grid_x, grid_y = _grid(*flow.shape[:2])
    return cv2.remap(image, grid_x + flow[..., 0], grid_y + flow[..., 1], interpolation=cv2.INTER_LINEAR,
                     borderMode=cv2.BORDER_REPLICATE)


@dataclass(frozen=True)
class PairFlow:
    """The flow from frame t to frame t+1 and the pixels of frame t it is trusted for."""

    forward: np.ndarray
    mask: np.ndarray

    @property
    def coverage(self) -> float:
        return float(self.mask.mean())


def consistent_mask(forward: np.ndarray, backward: np.ndarray) -> np.ndarray:
    """Pixels of frame t whose flow stays in the frame and agrees with the backward flow where it lands."""
    height, width = forward.shape[:2]
    back_at_target = sample(backward, forward)
    disagreement = np.sum((forward + back_at_target) ** 2, axis=-1)
    magnitude = np.sum(forward ** 2, axis=-1) + np.sum(back_at_target ** 2, axis=-1)
    grid_x, grid_y = _grid(height, width)
    target_x, target_y = grid_x + forward[..., 0], grid_y + forward[..., 1]
    inside = (target_x >= 0) & (target_x <= width - 1) & (target_y >= 0) & (target_y <= height - 1)
    return inside & (disagreement <= FB_RELATIVE * magnitude + FB_ABSOLUTE)


def pair_flow(previous_rgb: np.ndarray, next_rgb: np.ndarray, dis: cv2.DISOpticalFlow | None = None) -> PairFlow:
    """DIS flow both ways between two input frames, and the forward-backward mask."""
    dis = dis or _dis()
    previous, following = _grey(previous_rgb), _grey(next_rgb)
    forward = dis.calc(previous, following, None)
    backward = dis.calc(following, previous, None)
    return PairFlow(forward, consistent_mask(forward, backward))


def clip_flows(frames: list[np.ndarray] | np.ndarray) -> list[PairFlow]:
    dis = _dis()
    return [pair_flow(a, b, dis) for a, b in zip(frames, frames[1:])]


def _to_size(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    if (image.shape[1], image.shape[0]) == tuple(size):
        return image
    return cv2.resize(image.astype(np.float32), tuple(size), interpolation=cv2.INTER_AREA)


def pair_warping_error(previous_out: np.ndarray, next_out: np.ndarray, flow: PairFlow) -> float:
    """Mean squared difference (RGB in [0, 1]) between output t and output t+1 warped back, on the mask."""
    size = (flow.forward.shape[1], flow.forward.shape[0])
    previous = _to_size(previous_out, size).astype(np.float32) / 255.0
    warped = sample(_to_size(next_out, size).astype(np.float32), flow.forward) / 255.0
    if not flow.mask.any():
        return float("nan")
    squared = np.sum((previous - warped) ** 2, axis=-1) / previous.shape[-1]
    return float(squared[flow.mask].mean())


@dataclass(frozen=True)
class ClipScore:
    pairs: list[float]

    @property
    def mean(self) -> float:
        return float(np.nanmean(self.pairs))

    @property
    def rms_grey_levels(self) -> float:
        """The mean warping error as an RMS difference in 0..255 grey levels."""
        return float(np.sqrt(self.mean) * 255.0)


def warping_error(outputs: list[np.ndarray] | np.ndarray, flows: list[PairFlow]) -> ClipScore:
    """The warping error of a clip's outputs, given the input's `clip_flows` (one fewer than the frames)."""
    if len(outputs) != len(flows) + 1:
        raise ValueError(f"{len(outputs)} outputs for {len(flows)} flows: expected one more output than flows")
    return ClipScore([pair_warping_error(a, b, flow) for a, b, flow in zip(outputs, outputs[1:], flows)])


class FlowDamper:
    """Blends each stylized frame with the previous output warped along the input's flow.

    `weight` is the share of the new stylized frame (1.0: no damping). The flow is computed on the input
    frames (model input size) and scaled to the output's size; pixels that fail the forward-backward check
    keep the new frame, so occlusions and cuts do not smear.
    """

    def __init__(self, weight: float = 0.5):
        if not 0 < weight <= 1:
            raise ValueError("the damper's weight must be in (0, 1]")
        self.weight = weight
        self._dis = _dis(cv2.DISOPTICAL_FLOW_PRESET_FAST)
        self._previous_input: np.ndarray | None = None
        self._previous_output: np.ndarray | None = None

    def reset(self) -> None:
        self._previous_input = self._previous_output = None

    def __call__(self, input_rgb: np.ndarray, stylized_rgb: np.ndarray) -> np.ndarray:
        previous_input, previous_output = self._previous_input, self._previous_output
        self._previous_input = input_rgb
        if previous_input is None or previous_output is None or self.weight == 1.0:
            self._previous_output = stylized_rgb
            return stylized_rgb
        # Flow from the new frame back to the previous one: where each new pixel was.
        flow = pair_flow(input_rgb, previous_input, self._dis)
        out_h, out_w = stylized_rgb.shape[:2]
        in_h, in_w = input_rgb.shape[:2]
        scale = np.array([out_w / in_w, out_h / in_h], np.float32)
        flow_out = cv2.resize(flow.forward, (out_w, out_h), interpolation=cv2.INTER_LINEAR) * scale
        mask = cv2.resize(flow.mask.astype(np.uint8), (out_w, out_h), interpolation=cv2.INTER_NEAREST)
        warped = sample(previous_output, flow_out)
        blended = cv2.addWeighted(stylized_rgb, self.weight, warped, 1 - self.weight, 0)
        result = stylized_rgb.copy()
        cv2.copyTo(blended, mask, result)
        self._previous_output = result
        return result
