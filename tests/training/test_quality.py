"""The quality measures: known values on constructed images, and the shift calibration's bookkeeping."""

import numpy as np
import pytest

from mobilestyle.training.quality import (MAX_PSNR, SHIFT_MARGIN, Scores, blur, border_departure, detail,
                                          gram_distance, grams, interior, mean_scores, psnr, score, shift_frame,
                                          structure_psnr, unshift_frame)
from mobilestyle.training.vgg import TEXTURE_LAYERS, load_loss_network
from tests.training.synthetic import write_vgg_npz


def smooth(height=72, width=128, seed=0) -> np.ndarray:
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    phases = np.random.default_rng(seed).uniform(0, 6, 3)
    image = np.stack([127 + 100 * np.sin(x / 9 + p) * np.cos(y / 7 - p) for p in phases], -1)
    return np.clip(np.rint(image), 0, 255).astype(np.uint8)


def checkerboard(height=72, width=128, amplitude=20) -> np.ndarray:
    y, x = np.mgrid[0:height, 0:width]
    return (np.where((x + y) % 2, amplitude, -amplitude)[..., None] * np.ones(3)).astype(np.int32)


def test_psnr_known_value_and_cap():
    reference = np.zeros((16, 16, 3), np.uint8)
    assert psnr(reference, reference + 16) == pytest.approx(10 * np.log10(255**2 / 256), abs=1e-9)
    assert psnr(reference, reference) == MAX_PSNR


def test_structure_psnr_looks_past_fine_texture():
    image = smooth()
    textured = np.clip(image.astype(np.int32) + checkerboard(), 0, 255).astype(np.uint8)
    assert psnr(image, textured) < 23
    assert structure_psnr(image, textured) > 45
    shifted_colours = np.clip(image.astype(np.int32) + 20, 0, 255).astype(np.uint8)
    assert structure_psnr(image, shifted_colours) < 23  # colours and layout still count


def test_detail_measures_fine_detail():
    flat = np.full((40, 40, 3), 90, np.uint8)
    assert detail(flat) == pytest.approx(0.0, abs=1e-4)
    image = np.clip(smooth().astype(np.int32) + checkerboard(), 0, 255).astype(np.uint8)
    softened = np.clip(np.rint(blur(image, 2.0)), 0, 255).astype(np.uint8)
    assert detail(softened) < 0.2 * detail(image)


def test_border_departure_sees_a_coloured_band():
    image = np.full((72, 128, 3), 100, np.uint8)
    assert border_departure(image) == 0.0
    image[:8] += 30  # a band along the top edge only: one side of four
    assert border_departure(image) == pytest.approx(30 / 4)
    image[:, -8:] = 0  # and a black band on the right
    assert border_departure(image) > 30 / 4 + 100 / 4 - 1


def test_gram_distance_is_relative_and_summed_over_layers():
    reference = {"a": np.eye(2), "b": np.ones((3, 3))}
    assert gram_distance(reference, reference) == 0.0
    assert gram_distance(reference, {"a": 2 * np.eye(2), "b": np.ones((3, 3))}) == pytest.approx(1.0)
    assert gram_distance(reference, {"a": 2 * np.eye(2), "b": np.zeros((3, 3))}) == pytest.approx(2.0)


@pytest.fixture(scope="module")
def texture_net(tmp_path_factory):
    return load_loss_network(write_vgg_npz(tmp_path_factory.mktemp("vgg") / "vgg.npz"), TEXTURE_LAYERS)


def test_grams_per_texture_layer(texture_net):
    result = grams(texture_net, smooth())
    assert tuple(result) == texture_net.style_layers == ("relu1_2", "relu2_2")
    assert result["relu1_2"].shape == (64, 64) and result["relu2_2"].shape == (128, 128)
    np.testing.assert_allclose(result["relu2_2"], result["relu2_2"].T, rtol=1e-5, atol=1e-6)


def test_an_image_against_itself_and_against_another(texture_net):
    image = smooth()
    same = score(image, image, texture_net)
    assert (same.structure_psnr, same.psnr, same.detail_ratio) == (MAX_PSNR, MAX_PSNR, 1.0)
    assert same.gram_distance == pytest.approx(0.0, abs=1e-6) and same.ssim == pytest.approx(1.0)
    assert same.border == same.reference_border
    other = score(image, smooth(seed=1), texture_net)
    assert other.gram_distance > 0.01 and other.psnr < 20 and other.ssim < 0.9
    assert score(image, smooth(seed=1)).gram_distance is None
    given = score(image, smooth(seed=1), texture_net, reference_grams=grams(texture_net, image))
    assert given.gram_distance == pytest.approx(other.gram_distance, rel=1e-6)


def test_mean_scores_and_as_dict():
    first = Scores(20.0, 0.5, 0.9, 1.0, 2.0, 15.0, 0.5)
    second = Scores(22.0, 0.3, 1.1, 3.0, 2.0, 17.0, 0.7)
    assert mean_scores([first, second]) == {"structure_psnr": 21.0, "gram_distance": 0.4, "detail_ratio": 1.0,
                                            "border": 2.0, "reference_border": 2.0, "psnr": 16.0, "ssim": 0.6}
    untextured = Scores(22.0, None, 1.1, 3.0, 2.0, 17.0, 0.7)
    assert mean_scores([first, untextured])["gram_distance"] is None
    assert untextured.as_dict()["gram_distance"] is None
    assert Scores(1 / 3, 0.5, 1.0, 0.0, 0.0, 1.0, 1.0).as_dict()["structure_psnr"] == 0.3333


def test_shift_moves_the_frame_and_unshift_brings_a_rendering_back():
    image = smooth()
    moved = shift_frame(image, 2)
    assert moved.shape == image.shape
    np.testing.assert_array_equal(moved[2:, 2:], image[:-2, :-2])
    np.testing.assert_array_equal(interior(unshift_frame(moved, 2)), interior(image))
    # A shift-equivariant "teacher" (a blur) scores perfectly on the shifted calibration row.
    def render(frame):
        return np.clip(np.rint(blur(frame, 1.0)), 0, 255).astype(np.uint8)
    back = unshift_frame(render(shift_frame(image, 2)), 2)
    np.testing.assert_array_equal(interior(back), interior(render(image)))
    assert interior(image).shape == (72 - 2 * SHIFT_MARGIN, 128 - 2 * SHIFT_MARGIN, 3)
