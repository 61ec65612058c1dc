"""The warping-error measure and the flow damper, on synthetic clips whose motion is known."""

import cv2
import numpy as np
import pytest

from mobilestyle.flicker import FlowDamper, clip_flows, consistent_mask, pair_flow, warping_error


def texture(height=120, width=200, seed=0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    noise = rng.integers(0, 255, (height // 4, width // 4, 3)).astype(np.uint8)
    return cv2.GaussianBlur(cv2.resize(noise, (width, height), interpolation=cv2.INTER_CUBIC), (0, 0), 1.0)


def panning_clip(frames=6, step=(3, 2)) -> list[np.ndarray]:
    """A large texture seen through a window that moves `step` pixels a frame (the scene moves by -step)."""
    scene = texture(240, 360)
    return [np.ascontiguousarray(scene[40 + i * step[1]: 160 + i * step[1], 60 + i * step[0]: 260 + i * step[0]])
            for i in range(frames)]


def test_dis_flow_recovers_a_pan_and_trusts_the_pixels_that_stay_in_view():
    clip = panning_clip()
    flow = pair_flow(clip[0], clip[1])
    inner = flow.forward[10:-10, 10:-10]
    assert np.median(inner[..., 0]) == pytest.approx(-3, abs=0.2)
    assert np.median(inner[..., 1]) == pytest.approx(-2, abs=0.2)
    assert 0.85 < flow.coverage < 1.0  # the strip that leaves the view is masked


def test_the_forward_backward_check_masks_disagreement_and_pixels_leaving_the_frame():
    forward = np.zeros((20, 30, 2), np.float32)
    forward[..., 0] = 5
    backward = -forward.copy()
    backward[:, 10:15] = 0  # where frame t's pixels 5..9 land, the backward flow disagrees
    mask = consistent_mask(forward, backward)
    assert not mask[:, 25:].any()  # x + 5 > 29: out of the frame
    assert not mask[:, 5:10].any()
    assert mask[:, :5].all() and mask[:, 10:25].all()


def test_a_stable_filter_scores_near_the_inputs_floor_and_a_flickering_one_far_above():
    clip = panning_clip(frames=8)
    flows = clip_flows(clip)
    floor = warping_error(clip, flows).mean
    stable = warping_error([255 - frame for frame in clip], flows).mean
    rng = np.random.default_rng(1)
    flickering = [np.clip(frame.astype(int) + rng.normal(0, 12, frame.shape), 0, 255).astype(np.uint8)
                  for frame in clip]
    flicker = warping_error(flickering, flows)
    assert stable == pytest.approx(floor, rel=1e-6)  # inversion changes no squared difference
    assert flicker.mean > 10 * floor
    assert flicker.rms_grey_levels == pytest.approx(12 * np.sqrt(2), rel=0.25)
    assert len(flicker.pairs) == 7


def test_outputs_larger_than_the_input_are_averaged_down_first():
    clip = panning_clip(frames=4)
    flows = clip_flows(clip)
    large = [cv2.resize(frame, (400, 240), interpolation=cv2.INTER_LINEAR) for frame in clip]
    assert warping_error(large, flows).mean == pytest.approx(warping_error(clip, flows).mean, rel=0.5)
    with pytest.raises(ValueError, match="one more output than flows"):
        warping_error(clip, flows[:-1])


def test_the_damper_cuts_flicker_on_a_moving_scene_and_leaves_a_stable_one_alone():
    clip = panning_clip(frames=10)
    flows = clip_flows(clip)
    flickering = [np.clip(frame.astype(int) + (20 if i % 2 else -20), 0, 255).astype(np.uint8)
                  for i, frame in enumerate(clip)]
    damper = FlowDamper(weight=0.5)
    damped = [damper(frame, styled) for frame, styled in zip(clip, flickering)]
    assert np.array_equal(damped[0], flickering[0])
    assert warping_error(damped, flows).mean < 0.5 * warping_error(flickering, flows).mean

    steady = FlowDamper(weight=0.5)
    still = texture()
    outputs = [steady(still, 255 - still) for _ in range(3)]
    assert all(np.abs(out.astype(int) - (255 - still)).max() <= 1 for out in outputs)
    with pytest.raises(ValueError):
        FlowDamper(weight=0)
