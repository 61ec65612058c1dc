"""Shared fixtures. Tests that need ../shared/data skip with a reason when it is absent, except in CI
(`CI=true`, as scripts/ci_swift.sh reads it), which always has it: there a missing folder fails them."""

import importlib.util
import os
from pathlib import Path

import numpy as np
import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"


def load_script(path: Path, name: str):
    """A standalone script of the repository (a benchmark, models/ship_style.py) loaded as a module."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        if os.environ.get("CI") == "true":
            pytest.fail("CI must run the tests that need ../shared/data: put ../shared beside the checkout")
        pytest.skip(f"shared data folder {SHARED_DATA} is absent (only the project's own checkouts have it)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def astronaut_frame() -> np.ndarray:
    """A real photo (scikit-image ships it) fitted to the model input, 853x480 RGB uint8."""
    from skimage import data

    from mobilestyle.images import fit_frame

    return fit_frame(data.astronaut())
