"""Tiny batch-norm nets and a folder of synthetic photos for the pruning tests."""

import numpy as np
import pytest
from PIL import Image

from mobilestyle.networks.arch import ArchSpec
from mobilestyle.networks.checkpoint import random_checkpoint

TINY = "blocks=2,width=0.25"


def tiny_checkpoint(extra: str = "", seed: int = 0):
    return random_checkpoint(ArchSpec.parse(TINY + ("," + extra if extra else "")), seed)


def sample_images(count: int = 2, height: int = 36, width: int = 52, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(0, 255, (count, height, width, 3)).astype(np.float32)


@pytest.fixture(scope="session")
def photo_dir(tmp_path_factory):
    """Twelve smooth synthetic 'photos' (gradients and blobs), 96x64 PNGs."""
    folder = tmp_path_factory.mktemp("photos")
    y, x = np.mgrid[0:64, 0:96].astype(np.float32)
    for index in range(12):
        phases = np.array([0.3, 1.1, 2.0]) * (index + 1)
        image = np.stack([127 + 120 * np.sin(x / (6 + index) + p) * np.cos(y / (5 + p) - index) for p in phases], -1)
        Image.fromarray(np.clip(image, 0, 255).astype(np.uint8)).save(folder / f"photo{index:02d}.png")
    return folder
