"""benchmarks/crop_mismatch.py on small random nets and generated frames: a batch-norm net's output on a crop
is its output on the frame (up to the crop's edges), an instance-norm net's is not; bad input is refused in one line."""

import json

import numpy as np
import pytest

from mobilestyle.networks.arch import ArchSpec
from mobilestyle.networks.checkpoint import random_checkpoint, save_checkpoint
from tests.conftest import REPO_ROOT, load_script

SMALL = "blocks=1,width=0.25,norm={norm},upsample=nearest,padding=reflect,output=tanh150,out_norm=yes,eps=0.001"
HEIGHT, WIDTH, CROP = 160, 224, 128


@pytest.fixture(scope="module")
def benchmark():
    return load_script(REPO_ROOT / "benchmarks" / "crop_mismatch.py", "crop_mismatch")


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    """Two frames that are dark on one side and bright on the other, so a crop's statistics are not the frame's."""
    folder = tmp_path_factory.mktemp("crop_mismatch")
    rng = np.random.default_rng(0)
    ramp = np.linspace(20, 235, WIDTH, dtype=np.float32)[None, :, None]
    content = np.clip(ramp + rng.normal(0, 20, (2, HEIGHT, WIDTH, 3)), 0, 255).astype(np.float32)
    frames = folder / "eval_targets.npz"
    np.savez(frames, content=content, target=content[:, :, ::-1].copy())
    checkpoints = {norm: save_checkpoint(random_checkpoint(ArchSpec.parse(SMALL.format(norm=norm)), seed=1),
                                         folder / f"{norm}.npz") for norm in ("batch", "instance")}
    return frames, checkpoints


def test_a_crop_changes_an_instance_norm_net_s_output_and_not_a_batch_norm_net_s(benchmark, inputs, tmp_path):
    frames, checkpoints = inputs
    out = tmp_path / "report.json"
    code = benchmark.main(["--frames", str(frames), "--student", f"bn={checkpoints['batch']}",
                           "--student", f"in={checkpoints['instance']}", "--crop", str(CROP), "--json", str(out)])
    assert code == 0
    report = json.loads(out.read_text())
    assert report["frames"] == 2 and report["size"] == f"{WIDTH}x{HEIGHT}"
    assert str(REPO_ROOT) not in report["command"] and str(tmp_path) not in report["command"]
    batch, instance = report["students"]["bn"][str(CROP)], report["students"]["in"][str(CROP)]
    # The batch-norm net differs only where its receptive field reaches the crop's edges (29 dB here).
    assert batch["crop_vs_frame_db"] > 25
    assert instance["crop_vs_frame_db"] < batch["crop_vs_frame_db"] - 8
    assert batch["on_crop_vs_teacher_db"] == pytest.approx(batch["on_frame_vs_teacher_db"], abs=0.1)


def test_crops_stay_inside_the_frame_and_are_seeded(benchmark):
    boxes = benchmark.crop_boxes(HEIGHT, WIDTH, CROP, 3, seed=5)
    assert len(boxes) == 3 * benchmark.CROPS_PER_FRAME
    assert all(0 <= top <= HEIGHT - CROP and 0 <= left <= WIDTH - CROP for _, top, left in boxes)
    assert boxes == benchmark.crop_boxes(HEIGHT, WIDTH, CROP, 3, seed=5)


@pytest.mark.parametrize("words, message", [
    (["--student", "nolabel"], "--student wants LABEL=CHECKPOINT.npz, got 'nolabel'"),
    (["--student", "x=missing.npz"], "--student x: no checkpoint at missing.npz"),
    (["--crop", "400"], "--crop 400 is larger than the 224x160 frames"),
    (["--crop", "130"], "--crop must be a multiple of 4 above 32, got 130"),
    (["--count", "0"], "--count must be at least 1, got 0"),
])
def test_bad_input_is_one_line_and_writes_nothing(benchmark, inputs, tmp_path, capsys, words, message):
    frames, checkpoints = inputs
    out = tmp_path / "report.json"
    defaults = {"--student": f"bn={checkpoints['batch']}", "--crop": str(CROP)}
    given = dict(zip(words[::2], words[1::2]))
    argv = ["--frames", str(frames), "--json", str(out)]
    for flag, value in {**defaults, **given}.items():
        argv += [flag, value]
    assert benchmark.main(argv) == 1
    error = capsys.readouterr().err
    assert error.strip() == f"error: {message}" and error.count("\n") == 1
    assert list(tmp_path.iterdir()) == []
