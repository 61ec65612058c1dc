"""Content photos for training: listing several folders, loading them as camera frames, subsets."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mobilestyle.errors import UserError
from mobilestyle.images import list_images, load_frame


def list_photos(folders: list[Path]) -> list[Path]:
    """Every image file directly inside the given folders, each folder sorted by name."""
    paths = []
    for folder in folders:
        found = list_images(folder)
        if not found:
            raise UserError(f"image folder {folder} has no images")
        paths += found
    return paths


def load_frames(paths: list[Path], width: int, height: int) -> np.ndarray:
    """The photos as uint8 frames (count, height, width, 3): 16:9 centre crop resized like the camera path."""
    return np.stack([load_frame(path, width, height) for path in paths])


def evenly_spaced(items: list, count: int) -> list:
    """`count` items spread evenly over the list (all of them when count is 0 or large)."""
    if count <= 0 or count >= len(items):
        return list(items)
    return [items[round(i * (len(items) - 1) / max(1, count - 1))] for i in range(count)]
