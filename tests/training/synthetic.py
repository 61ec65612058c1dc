"""Small synthetic inputs for the training tests: a VGG-format .npz, photos and a painting."""

from pathlib import Path

import numpy as np
from PIL import Image

VGG_LAYERS = {"block1_conv1": (3, 64), "block1_conv2": (64, 64), "block2_conv1": (64, 128), "block2_conv2": (128, 128)}
# VGG19 up to block3_conv4 (relu3_4 is a texture layer), like the partial VGG19 in ../shared.
VGG19_LAYERS = {**VGG_LAYERS, "block3_conv1": (128, 256), "block3_conv2": (256, 256), "block3_conv3": (256, 256),
                "block3_conv4": (256, 256)}


def write_vgg_npz(path: Path, layers: dict | None = None, seed: int = 0) -> Path:
    """A VGG stack up to block2_conv2 (relu1_2 and relu2_2) with He-scaled random weights."""
    rng = np.random.default_rng(seed)
    arrays = {}
    for name, (fan_in, fan_out) in (layers or VGG_LAYERS).items():
        arrays[f"{name}.kernel"] = rng.normal(0, np.sqrt(2 / (9 * fan_in)), (3, 3, fan_in, fan_out)).astype(np.float32)
        arrays[f"{name}.bias"] = rng.normal(0, 0.1, fan_out).astype(np.float32)
    np.savez(path, **arrays)
    return path


def smooth_image(rng: np.random.Generator, width: int, height: int) -> Image.Image:
    small = rng.uniform(0, 255, (5, 5, 3)).astype(np.uint8)
    return Image.fromarray(small).resize((width, height), Image.Resampling.BICUBIC)


def write_photos(folder: Path, count: int = 4, size: tuple[int, int] = (72, 56), seed: int = 0) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for index in range(count):
        width, height = size if index % 2 else size[::-1]
        smooth_image(rng, width, height).save(folder / f"photo{index}.png")
    return folder


def write_painting(path: Path, size: int = 80, seed: int = 1) -> Path:
    """Stripes and blobs: a texture with clear Gram statistics."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:size, 0:size]
    stripes = (127 + 120 * np.sin(x / 3.0 + y / 5.0))[..., None] * np.array([0.3, 0.6, 1.0])
    blobs = np.asarray(smooth_image(rng, size, size), np.float32) * 0.4
    Image.fromarray(np.clip(stripes * 0.7 + blobs, 0, 255).astype(np.uint8)).save(path)
    return path
