"""Fixtures for the emulator's tests: a generated video and a tiny exported model."""

from pathlib import Path

import pytest

from tests.emulator.fakes import TINY_ARCH, write_test_video


@pytest.fixture
def generated_video(tmp_path) -> Path:
    return write_test_video(tmp_path / "clip.mp4")


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    """A small exported style model (random weights), run by the real Linux runner."""
    from mobilestyle.export.coreml import export_coreml
    from mobilestyle.networks.arch import ArchSpec
    from mobilestyle.networks.checkpoint import random_checkpoint

    out = tmp_path_factory.mktemp("models")
    return export_coreml(random_checkpoint(ArchSpec.parse(TINY_ARCH), 0), out, "tiny").model_path
