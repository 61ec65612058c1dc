"""The styles shipped in models/: every checkpoint loads, is small, and carries complete metadata."""

import importlib.util
import json
import shlex
from pathlib import Path

import numpy as np
import pytest

from mobilestyle.networks.checkpoint import load_checkpoint
from mobilestyle.styles import shipped_models_dir
from mobilestyle.training.distill import DistillConfig

MODELS = shipped_models_dir()
SHIPPED = sorted(MODELS.glob("*.npz"))
REQUIRED_KEYS = {"style", "checkpoint", "source_painting", "public_domain", "licence", "teacher", "student_arch",
                 "recipe", "quality"}


def test_muse_and_three_public_domain_styles_are_shipped():
    infos = [json.loads(path.with_suffix(".json").read_text()) for path in SHIPPED]
    assert "muse" in {info["style"] for info in infos}
    assert sum(info["public_domain"] for info in infos) >= 3


@pytest.mark.parametrize("path", SHIPPED, ids=lambda path: path.stem)
def test_shipped_style_is_small_complete_and_runs(path: Path):
    info = json.loads(path.with_suffix(".json").read_text())
    assert REQUIRED_KEYS <= set(info), f"{path.stem}.json lacks {REQUIRED_KEYS - set(info)}"
    assert info["style"] == path.stem and info["checkpoint"] == path.name
    assert path.stat().st_size < 5e6
    assert 0 < info["quality"]["psnr_db"] <= 100 and info["quality"]["size"] == "853x480"
    assert info["recipe"]["command"].startswith("mobilestyle distill")

    checkpoint = load_checkpoint(path)
    assert str(checkpoint.arch) == info["student_arch"]
    frame = np.random.default_rng(0).uniform(0, 255, (1, 32, 48, 3)).astype(np.float32)
    stylized = checkpoint.build_model(32, 48)(frame).numpy()
    assert stylized.shape == (1, 32, 48, 3)
    assert np.isfinite(stylized).all() and stylized.std() > 1.0


@pytest.mark.parametrize("norm_stats", ["batch", "fixed"])
def test_ship_style_writes_back_the_distill_command_that_made_the_checkpoint(norm_stats: str):
    spec = importlib.util.spec_from_file_location("ship_style", Path(__file__).resolve().parents[2] / "models/ship_style.py")
    ship_style = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ship_style)
    config = DistillConfig(teacher=Path("teachers/la_muse"), content_dirs=[Path("photos")], out=Path("runs/m.npz"),
                           minutes=50.0, init="teacher", norm_stats=norm_stats, fp16=True)
    words = shlex.split(ship_style.command_line(config.recipe()))
    assert words[:4] == ["mobilestyle", "distill", "--teacher", "teachers/la_muse"]
    assert ("--norm-stats" in words) == (norm_stats != "batch")
    if norm_stats != "batch":
        assert words[words.index("--norm-stats") + 1] == norm_stats
    assert words[words.index("--init") + 1] == "teacher" and words[-1] == "--fp16"
