"""benchmarks/compare_students.py on small random nets, generated frames and a synthetic VGG19: a student is
scored against the cached teacher frames (one that made those frames scores as the teacher itself); bad input
is refused in one line and writes nothing."""

import json

import numpy as np
import pytest
from PIL import Image

from mobilestyle.networks.arch import ArchSpec
from mobilestyle.networks.checkpoint import load_checkpoint, random_checkpoint, save_checkpoint
from mobilestyle.training.targets import stylize_frames
from tests.conftest import REPO_ROOT, load_script
from tests.training.synthetic import VGG19_LAYERS, write_vgg_npz

SMALL = "blocks=1,width=0.25,norm=batch,upsample=nearest,padding=reflect,output=tanh150,out_norm=yes,eps=0.001"
HEIGHT, WIDTH = 96, 128


@pytest.fixture(scope="module")
def benchmark():
    return load_script(REPO_ROOT / "benchmarks" / "compare_students.py", "compare_students")


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    """Three frames whose 'teacher' frames are the output of the checkpoint `teacher`; a second net `other`."""
    folder = tmp_path_factory.mktemp("compare_students")
    rng = np.random.default_rng(0)
    content = rng.integers(0, 256, (3, HEIGHT, WIDTH, 3), dtype=np.uint8)
    arch = ArchSpec.parse(SMALL)
    checkpoints = {name: save_checkpoint(random_checkpoint(arch, seed=seed), folder / f"{name}.npz")
                   for name, seed in (("teacher", 1), ("other", 2))}
    target = stylize_frames(load_checkpoint(checkpoints["teacher"]).build_model(HEIGHT, WIDTH), content)
    frames = folder / "eval_targets.npz"
    np.savez(frames, key=np.array("test"), content=content, target=target)
    return {"frames": frames, "vgg": write_vgg_npz(folder / "vgg19.npz", VGG19_LAYERS), **checkpoints}


def test_the_net_that_made_the_frames_scores_as_the_teacher_and_another_does_not(benchmark, inputs, tmp_path):
    out = tmp_path / "compare.json"
    code = benchmark.main(["--frames", str(inputs["frames"]), "--vgg-weights", str(inputs["vgg"]),
                           "--student", f"same={inputs['teacher']}", "--student", f"other={inputs['other']}",
                           "--count", "2", "--out", str(out), "--grid", str(tmp_path / "grid.jpg")])
    assert code == 0
    with Image.open(tmp_path / "grid.jpg") as grid:
        assert grid.format == "JPEG" and grid.size == (4 * WIDTH, 2 * HEIGHT)
    results = json.loads(out.read_text())
    assert list(results) == ["same", "other", "photo_border"]
    same, other = results["same"], results["other"]
    assert same["gram_distance"] == 0 and same["detail_ratio"] == 1 and same["structure_psnr"] >= 99
    assert other["gram_distance"] > 0.05 and other["structure_psnr"] < 40
    assert results["photo_border"] > 0


@pytest.mark.parametrize("words, message", [
    (["--student", "nolabel"], "--student wants LABEL=CHECKPOINT.npz, got 'nolabel'"),
    (["--student", "x=missing.npz"], "checkpoint missing.npz does not exist"),
    (["--student", "photo_border={teacher}"], "--student photo_border: that label names the photos' row"),
    (["--count", "-1"], "--count must be 0 (all frames) or more, got -1"),
    (["--frames", "{corrupt}"], "is not a readable .npz"),
    (["--frames", "{foreign}"], "holds no \"content\" and \"target\" frames"),
    (["--frames", "missing.npz"], "missing.npz: no such file"),
])
def test_bad_input_is_one_line_and_writes_nothing(benchmark, inputs, tmp_path, capsys, words, message):
    (tmp_path / "corrupt.npz").write_bytes(b"PK\x03\x04 not really a zip")
    np.savez(tmp_path / "foreign.npz", weights=np.zeros(3))
    names = {"teacher": inputs["teacher"], "corrupt": tmp_path / "corrupt.npz", "foreign": tmp_path / "foreign.npz"}
    out = tmp_path / "out" / "compare.json"
    options = {"--frames": str(inputs["frames"]), "--vgg-weights": str(inputs["vgg"]),
               "--student": f"a={inputs['teacher']}", "--out": str(out)}
    options.update({flag: value.format(**names) for flag, value in zip(words[::2], words[1::2])})
    argv = [word for pair in options.items() for word in pair]
    assert benchmark.main(argv) == 1
    error = capsys.readouterr().err
    assert error.startswith("error: ") and message in error and error.count("\n") == 1
    assert not out.parent.exists()
