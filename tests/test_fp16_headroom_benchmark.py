"""benchmarks/fp16_headroom.py on a small random instance-norm net: the export's rescaling keeps every
calibration frame 16x below fp16's largest value, every frame gets a row, and bad input is refused in one line."""

import json

import numpy as np
import pytest
from PIL import Image

from mobilestyle.export.fp16_range import FP16_MAX, SQUARE_HEADROOM
from mobilestyle.networks.arch import ArchSpec
from mobilestyle.networks.checkpoint import random_checkpoint, save_checkpoint
from tests.conftest import REPO_ROOT, load_script

SMALL = "blocks=1,widths=8/8/8,norm={norm},upsample=nearest,padding=reflect,output=tanh150,out_norm=yes,eps=0.001"


@pytest.fixture(scope="module")
def benchmark():
    return load_script(REPO_ROOT / "benchmarks" / "fp16_headroom.py", "fp16_headroom")


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fp16_headroom")
    checkpoints = {norm: save_checkpoint(random_checkpoint(ArchSpec.parse(SMALL.format(norm=norm)), seed=2),
                                         folder / f"{norm}.npz") for norm in ("instance", "batch")}
    photos = folder / "photos"
    photos.mkdir()
    rng = np.random.default_rng(0)
    for index in range(3):
        Image.fromarray(rng.integers(0, 256, (60, 90, 3), dtype=np.uint8)).save(photos / f"p{index}.png")
    (folder / "empty").mkdir()
    return {"photos": photos, "empty": folder / "empty", **checkpoints}


def test_every_frame_is_measured_and_the_calibration_frames_keep_their_headroom(benchmark, inputs, tmp_path):
    out = tmp_path / "headroom.json"
    code = benchmark.main(["--checkpoint", str(inputs["instance"]), "--photos", str(inputs["photos"]),
                           "--count", "2", "--json", str(out)])
    assert code == 0
    report = json.loads(out.read_text())
    assert str(tmp_path) not in report["command"]
    result = report["students"]["instance.npz"]
    frames = result["frames"]
    calibration = [name for name in frames if name.startswith("calibration: ")]
    assert len(calibration) == 7 and "calibration: 4-px blue/yellow checkerboard" in calibration
    assert {"p0.png", "p2.png", "white", "3-px red/green checkerboard"} <= set(frames)
    assert all(frames[name]["largest_square"] <= FP16_MAX / SQUARE_HEADROOM for name in calibration)
    # A flat frame has no deviation from its mean at any norm.
    assert frames["white"]["largest_square"] == 0 and frames["white"]["headroom"] is None
    assert result["worst_frame"] == max(frames, key=lambda name: frames[name]["largest_square"])
    worst = frames[result["worst_frame"]]
    assert result["worst_headroom"] == pytest.approx(FP16_MAX / worst["largest_square"], rel=1e-3)


@pytest.mark.parametrize("words, message", [
    (["--checkpoint", "{batch}"], "has no instance norms: its batch norms are folded at export"),
    (["--count", "0"], "--count must be at least 1, got 0"),
    (["--photos", "{empty}"], "holds no images"),
    (["--video", "{photos}/p0.png"], "p0.png is not a video file"),
    (["--video", "{empty}/clip.mp4"], "clip.mp4 does not exist"),
])
def test_bad_input_is_one_line_and_writes_nothing(benchmark, inputs, tmp_path, capsys, words, message):
    out = tmp_path / "headroom.json"
    options = {"--checkpoint": str(inputs["instance"]), "--json": str(out)}
    options.update({flag: value.format(**{key: str(path) for key, path in inputs.items()})
                    for flag, value in zip(words[::2], words[1::2])})
    assert benchmark.main([word for pair in options.items() for word in pair]) == 1
    error = capsys.readouterr().err
    assert error.startswith("error: ") and message in error and error.count("\n") == 1
    assert not out.exists()
