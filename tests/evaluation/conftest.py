"""Tiny students, a tiny teacher, a synthetic VGG19 stack and photos for the evaluation tests.

The frames compared are 128x72 (`FRAME_SIZE` is lowered) so that everything runs in seconds.
"""

import numpy as np
import pytest

from mobilestyle.evaluation import evaluate as evaluation
from mobilestyle.networks.arch import ArchSpec
from mobilestyle.networks.checkpoint import random_checkpoint, save_checkpoint
from tests.cli.conftest import run_cli  # noqa: F401  (the fixture, for the command tests)
from tests.training.synthetic import VGG19_LAYERS, write_photos, write_vgg_npz

SMALL = (128, 72)
TINY = "blocks=1,width=0.25"


@pytest.fixture
def small_frames(monkeypatch):
    monkeypatch.setattr(evaluation, "FRAME_SIZE", SMALL)
    return SMALL


def tiny_checkpoint(seed: int, arch: str = TINY):
    return random_checkpoint(ArchSpec.parse(arch), seed, {"style": f"tiny{seed}"})


@pytest.fixture(scope="session")
def inputs(tmp_path_factory):
    """Paths: two students, a teacher (.npz), a VGG19 .npz and a folder of five photos."""
    folder = tmp_path_factory.mktemp("evaluation_inputs")
    return {
        "student_a": save_checkpoint(tiny_checkpoint(1), folder / "a.npz"),
        "student_b": save_checkpoint(tiny_checkpoint(2, "blocks=2,width=0.25"), folder / "b.npz"),
        "teacher": save_checkpoint(tiny_checkpoint(3), folder / "teacher.npz"),
        "vgg": write_vgg_npz(folder / "vgg19.npz", VGG19_LAYERS),
        "photos": write_photos(folder / "photos", count=5, size=(160, 100)),
    }


def random_frames(count: int, size=SMALL, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (count, size[1], size[0], 3), dtype=np.uint8)
