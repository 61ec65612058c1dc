import io

import numpy as np
import pytest
from PIL import Image

from mobilestyle.errors import UserError
from mobilestyle.images import fit_frame, load_frame, load_rgb, save_png


def _gradient(width=64, height=48):
    y, x = np.mgrid[0:height, 0:width]
    return np.stack([x * 255 // width, y * 255 // height, (x + y) % 256], axis=-1).astype(np.uint8)


def _save(tmp_path, image: Image.Image, name: str, **kwargs):
    path = tmp_path / name
    image.save(path, **kwargs)
    return path


@pytest.mark.parametrize("make, name", [
    (lambda rgb: Image.fromarray(rgb).convert("RGBA"), "alpha.png"),
    (lambda rgb: Image.fromarray(rgb).convert("L"), "gray.png"),
    (lambda rgb: Image.fromarray(rgb).convert("P"), "palette.png"),
    (lambda rgb: Image.fromarray(rgb).convert("CMYK"), "cmyk.jpg"),
    (lambda rgb: Image.fromarray(rgb[..., 0].astype(np.uint16) * 257), "sixteen.png"),
    (lambda rgb: Image.fromarray(rgb), "plain.webp"),
])
def test_odd_but_valid_images_become_rgb_uint8(tmp_path, make, name):
    path = _save(tmp_path, make(_gradient()), name)
    rgb = load_rgb(path)
    assert rgb.dtype == np.uint8 and rgb.shape == (48, 64, 3)
    assert rgb.max() > 100  # not collapsed to black (16-bit data must be rescaled, not clipped)


def test_sixteen_bit_values_are_rescaled_not_clipped(tmp_path):
    values = np.full((32, 32), 32896, np.uint16)  # 50% grey in 16 bits
    path = _save(tmp_path, Image.fromarray(values), "grey16.png")
    assert abs(int(load_rgb(path)[0, 0, 0]) - 128) <= 1


def test_exif_rotation_is_applied(tmp_path):
    image = Image.fromarray(_gradient(64, 48))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise on display
    path = _save(tmp_path, image, "rotated.jpg", exif=exif.tobytes())
    assert load_rgb(path).shape == (64, 48, 3)


def test_transparent_pixels_are_composited_on_white(tmp_path):
    rgba = np.zeros((32, 32, 4), np.uint8)
    path = _save(tmp_path, Image.fromarray(rgba, "RGBA"), "clear.png")
    assert (load_rgb(path) == 255).all()


def test_very_large_jpeg_loads_reduced_and_fits_the_frame(tmp_path):
    big = Image.fromarray(np.random.default_rng(0).integers(0, 255, (6000, 10000, 3), dtype=np.uint8))
    path = _save(tmp_path, big, "big.jpg", quality=30)
    frame = load_frame(path)
    assert frame.shape == (480, 853, 3)


def test_fit_frame_center_crops_to_16_9():
    tall = np.zeros((400, 100, 3), np.uint8)
    tall[150:250] = 255  # only the centre band survives a 16:9 crop of a tall image
    assert fit_frame(tall, 160, 90).min() == 255


@pytest.mark.parametrize("content, message", [
    (b"", "empty"),
    (b"this is not an image", "not an image"),
])
def test_non_images_are_user_errors(tmp_path, content, message):
    path = tmp_path / "photo.jpg"
    path.write_bytes(content)
    with pytest.raises(UserError, match=message):
        load_rgb(path)


def test_truncated_image_is_a_user_error(tmp_path):
    buffer = io.BytesIO()
    Image.fromarray(_gradient(256, 256)).save(buffer, format="PNG")
    path = tmp_path / "cut.png"
    path.write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    with pytest.raises(UserError, match="damaged or truncated"):
        load_rgb(path)


def test_tiny_image_is_a_user_error(tmp_path):
    path = _save(tmp_path, Image.new("RGB", (1, 1)), "dot.png")
    with pytest.raises(UserError, match="too small"):
        load_rgb(path)


def test_missing_image_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        load_rgb(tmp_path / "nope.jpg")


def test_save_png_leaves_no_partial_file_on_failure(tmp_path):
    with pytest.raises(Exception):
        save_png(np.zeros((4, 4), np.uint8), tmp_path / "bad.png")
    assert list(tmp_path.iterdir()) == []
