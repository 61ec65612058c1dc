import cv2
import numpy as np
import pytest

from mobilestyle.emulator.fitting import center_crop_box, fit_camera_frame
from mobilestyle.images import fit_frame


@pytest.mark.parametrize("size, box", [
    ((1920, 1080), (0, 0, 1920, 1080)),
    ((640, 480), (0, 60, 640, 360)),
    ((1080, 1920), (0, 656, 1080, 608)),
    ((2560, 1080), (320, 0, 1920, 1080)),
])
def test_center_crop_box_is_the_largest_centered_16_9_box(size, box):
    assert center_crop_box(*size) == box


def smooth_scene(width: int, height: int) -> np.ndarray:
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    return np.stack([127 + 100 * np.sin(x / 37.0), 127 + 100 * np.cos(y / 23.0), 255 * x / width], -1).astype(np.uint8)


@pytest.mark.parametrize("size", [(640, 360), (1920, 1080), (1280, 960), (720, 1280)])
def test_fit_matches_the_pillow_lanczos_path_closely(size):
    rgb = smooth_scene(*size)
    ours = fit_camera_frame(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    reference = fit_frame(rgb)
    assert ours.shape == (480, 853, 3) and ours.dtype == np.uint8
    assert np.abs(ours.astype(int) - reference.astype(int)).mean() < 2.0


def test_fit_returns_rgb_from_bgr():
    bgr = np.zeros((360, 640, 3), np.uint8)
    bgr[..., 2] = 255
    assert fit_camera_frame(bgr)[240, 426].tolist() == [255, 0, 0]
