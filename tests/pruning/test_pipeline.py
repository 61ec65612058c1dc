"""The prune pipeline end to end on a tiny net and small frames, the sparsity fine-tune, export of a pruned net."""

import json

import numpy as np
import pytest
from rich.console import Console

from mobilestyle.errors import UserError
from mobilestyle.export.coreml import export_coreml
from mobilestyle.networks.arch import ArchSpec
from mobilestyle.networks.checkpoint import load_checkpoint, random_checkpoint, save_checkpoint
from mobilestyle.networks.counting import count
from mobilestyle.portable_paths import portable_path
from mobilestyle.pruning.finetune import finetune, teacher_frames
from mobilestyle.pruning.groups import channel_groups
from mobilestyle.pruning.pipeline import PruneConfig, prune, work_dir
from mobilestyle.pruning.surgery import remove_blocks, slice_channels
from mobilestyle.runner import ModelRunner
from mobilestyle.runner.parity import max_abs_error

from tests.models.test_shipped_styles import absolute_paths

from .conftest import TINY, tiny_checkpoint

SMALL_FRAMES = {"frame_width": 64, "frame_height": 48, "crop_size": 32, "batch_size": 2, "train_images": 0, "eval_images": 2}


def _config(tmp_path, photo_dir, **overrides):
    source = save_checkpoint(tiny_checkpoint("blocks=3"), tmp_path / "source.npz")
    values = dict(checkpoint=source, out=tmp_path / "pruned.npz", content_dirs=[photo_dir], sparsity_steps=2,
                  recovery_steps=2, **SMALL_FRAMES)
    values.update(overrides)
    return PruneConfig(**values)


def _mean_abs_gamma(checkpoint):
    return np.mean(np.concatenate([np.abs(checkpoint.weights[f"{norm}/gamma"])
                                   for group in channel_groups(checkpoint.arch) for norm in group.norms]))


def test_prune_to_a_mac_target_writes_a_smaller_net_and_a_report(tmp_path, photo_dir):
    config = _config(tmp_path, photo_dir, keep_blocks=2)
    full = count(load_checkpoint(config.checkpoint).arch, 48, 64)[1]
    config.target_macs = 0.4 * full
    report = prune(config)
    pruned = load_checkpoint(config.out)
    assert pruned.arch.blocks == 2 and len(report["blocks"]["removed"]) == 1
    assert 0.3 * full < count(pruned.arch, 48, 64)[1] <= 0.4 * full
    assert pruned.meta["pruned_from"] == portable_path(config.checkpoint)
    saved = json.loads((work_dir(config.out) / "report.json").read_text())
    assert saved["pruned"]["arch"] == str(pruned.arch) and saved["recovered"]["steps"] == 2
    assert 0 < saved["recovered"]["psnr_db"] <= 100 and saved["before"]["psnr_db"] == 100.0


def test_surgery_only_needs_no_photos(tmp_path, photo_dir):
    config = _config(tmp_path, photo_dir, content_dirs=[], keep=0.5, sparsity_steps=0, recovery_steps=0,
                     block_threshold=0.0)
    report = prune(config)
    assert "recovered" not in report and load_checkpoint(config.out).arch.widths[0] < 8


def test_the_report_and_the_pruned_metadata_hold_no_absolute_path(tmp_path, photo_dir, monkeypatch):
    """Every path given absolute (source, teacher, out, photos; one in the source's metadata) is recorded portably."""
    monkeypatch.chdir(tmp_path)
    source = save_checkpoint(random_checkpoint(ArchSpec.parse(TINY + ",blocks=3"), 0,
                                               {"teacher": "/elsewhere/runs/muse/teacher.npz"}),
                             tmp_path / "nets" / "source.npz")
    teacher = save_checkpoint(tiny_checkpoint("blocks=3", seed=1), tmp_path / "teachers" / "t.npz")
    config = _config(tmp_path, photo_dir, checkpoint=source, teacher=teacher, keep=0.5, sparsity_steps=0,
                     recovery_steps=0, block_threshold=0.0)
    prune(config)
    saved = json.loads((work_dir(config.out) / "report.json").read_text())
    assert absolute_paths(saved) == []
    assert (saved["source"], saved["teacher"], saved["checkpoint"]) == ("nets/source.npz", "teachers/t.npz",
                                                                        "pruned.npz")
    assert saved["recipe"]["out"] == "pruned.npz" and saved["recipe"]["content_dirs"] == [photo_dir.name]
    meta = load_checkpoint(config.out).meta
    assert absolute_paths(meta) == []
    assert meta["pruned_from"] == "nets/source.npz" and meta["teacher"] == "runs/muse/teacher.npz"
    assert meta["prune"]["source"] == "nets/source.npz"


def test_sparsity_fine_tune_shrinks_gamma(tmp_path, photo_dir):
    checkpoint = tiny_checkpoint()
    config = _config(tmp_path, photo_dir).distill_config(6, None)
    config.lr = 1e-2
    console = Console()
    frames = teacher_frames(checkpoint, config, tmp_path, console)
    sparse, steps = finetune(checkpoint, frames, config, 10.0, "sparsity", console)
    plain, _ = finetune(checkpoint, frames, config, 0.0, "plain", console)
    assert steps == 6
    assert _mean_abs_gamma(sparse) < _mean_abs_gamma(plain) - 0.03


@pytest.mark.parametrize("overrides, message", [
    ({"keep": 0.5, "target_macs": 1e6}, "exactly one"),
    ({}, "exactly one"),
    ({"keep": 0.5, "out": "pruned.onnx"}, ".npz"),
    ({"keep": 0.5, "content_dirs": []}, "--content-dir"),
    ({"keep": 0.5, "keep_blocks": 4}, "more than the net's 3 blocks"),
])
def test_bad_configurations_are_user_errors(tmp_path, photo_dir, overrides, message):
    with pytest.raises(UserError, match=message):
        prune(_config(tmp_path, photo_dir, **overrides))


def test_instance_norm_checkpoint_is_refused(tmp_path, photo_dir):
    source = save_checkpoint(tiny_checkpoint("norm=instance"), tmp_path / "instance.npz")
    with pytest.raises(UserError, match="slimming needs batch norm"):
        prune(_config(tmp_path, photo_dir, checkpoint=source, keep=0.5))


def test_pruned_net_exports_and_the_runner_matches_keras(tmp_path, astronaut_frame):
    checkpoint = tiny_checkpoint(seed=7)
    pruned = remove_blocks(slice_channels(checkpoint, {"conv1": [0, 2, 5], "trunk": np.arange(0, 32, 2),
                                                       "res1_inner": np.arange(9), "up1": np.arange(11)}), [2])
    result = export_coreml(pruned, tmp_path, "pruned")
    runner = ModelRunner(result.model_path)
    error, stylized = max_abs_error(pruned, runner, astronaut_frame)
    assert stylized.std() > 5 and error <= 1.0
    assert result.macs == count(pruned.arch)[1]
