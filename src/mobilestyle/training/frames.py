"""Content photos as camera-like frames: listing, loading and fitting them to the model's input size."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from mobilestyle.errors import UserError

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")


def list_images(folders: list[Path]) -> list[Path]:
    """Every image file directly inside the given folders, sorted by path."""
    paths = []
    for folder in folders:
        folder = Path(folder)
        if not folder.is_dir():
            raise UserError(f"image folder {folder} does not exist")
        found = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
        if not found:
            raise UserError(f"image folder {folder} has no images ({', '.join(IMAGE_SUFFIXES)})")
        paths += found
    return paths


def load_rgb(path: Path) -> Image.Image:
    try:
        with Image.open(path) as image:
            return ImageOps.exif_transpose(image).convert("RGB")
    except (OSError, UnidentifiedImageError) as exc:
        raise UserError(f"cannot read image {path}: {exc}") from None


def fit_frame(image: Image.Image, width: int, height: int) -> np.ndarray:
    """Scale the image to cover width x height, crop the centre: uint8 array (height, width, 3)."""
    scale = max(width / image.width, height / image.height)
    resized = image.resize((max(width, round(image.width * scale)), max(height, round(image.height * scale))),
                           Image.Resampling.BICUBIC)
    left, top = (resized.width - width) // 2, (resized.height - height) // 2
    return np.asarray(resized.crop((left, top, left + width, top + height)), dtype=np.uint8)


def load_frames(paths: list[Path], width: int, height: int) -> np.ndarray:
    return np.stack([fit_frame(load_rgb(path), width, height) for path in paths])


def evenly_spaced(items: list, count: int) -> list:
    """`count` items spread evenly over the list (all of them when count is 0 or large)."""
    if count <= 0 or count >= len(items):
        return list(items)
    return [items[round(i * (len(items) - 1) / max(1, count - 1))] for i in range(count)]
