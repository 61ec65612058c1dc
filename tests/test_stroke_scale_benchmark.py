"""benchmarks/stroke_scale.py on a small random net, generated frames and a synthetic VGG19: Gram distances at
full size and shrunk 2x and 4x, with the two reference rows; bad input is refused in one line."""

import json

import numpy as np
import pytest

from mobilestyle.networks.arch import ArchSpec
from mobilestyle.networks.checkpoint import random_checkpoint, save_checkpoint
from mobilestyle.training.vgg import TEXTURE_LAYERS, load_loss_network
from tests.conftest import REPO_ROOT, load_script
from tests.training.synthetic import VGG19_LAYERS, write_vgg_npz

SMALL = "blocks=1,width=0.25,norm=batch,upsample=nearest,padding=reflect,output=tanh150,out_norm=yes,eps=0.001"
HEIGHT, WIDTH = 128, 160


@pytest.fixture(scope="module")
def benchmark():
    return load_script(REPO_ROOT / "benchmarks" / "stroke_scale.py", "stroke_scale")


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("stroke_scale")
    rng = np.random.default_rng(0)
    content = rng.integers(0, 256, (2, HEIGHT, WIDTH, 3), dtype=np.uint8)
    x = np.arange(WIDTH)[None, :, None]
    stripes = np.broadcast_to(np.where((x // 16) % 2 == 0, 220, 30), (2, HEIGHT, WIDTH, 3)).astype(np.uint8)
    frames = folder / "eval_targets.npz"
    np.savez(frames, key=np.array("test"), content=content, target=stripes)
    small = folder / "small.npz"
    np.savez(small, key=np.array("test"), content=content[:, :64, :64], target=stripes[:, :64, :64])
    student = save_checkpoint(random_checkpoint(ArchSpec.parse(SMALL), seed=1), folder / "student.npz")
    vgg = write_vgg_npz(folder / "vgg.npz", VGG19_LAYERS)
    return {"frames": frames, "small": small, "student": student, "vgg": vgg}


def test_shrinking_averages_areas(benchmark):
    image = np.zeros((8, 12, 3), np.uint8)
    image[:, ::2] = 200
    shrunk = benchmark.shrink(image, 2)
    assert shrunk.shape == (4, 6, 3) and (shrunk == 100).all()
    assert benchmark.shrink(image, 1) is image


def test_the_teacher_against_itself_is_zero_at_every_scale(benchmark, inputs):
    network = load_loss_network(inputs["vgg"], TEXTURE_LAYERS)
    with np.load(inputs["frames"]) as data:
        teacher = data["target"]
    assert benchmark.gram_distances(network, teacher, teacher, (1, 2, 4)) == {"x1": 0, "x2": 0, "x4": 0}


def test_students_and_references_get_a_distance_per_scale(benchmark, inputs, tmp_path):
    out, plot = tmp_path / "scale.json", tmp_path / "scale.png"
    code = benchmark.main(["--frames", str(inputs["frames"]), "--student", f"random={inputs['student']}",
                           "--vgg-weights", str(inputs["vgg"]), "--json", str(out), "--plot", str(plot)])
    assert code == 0
    report = json.loads(out.read_text())
    rows = report["gram_distance_by_shrink"]
    assert list(rows) == ["random", "reference: teacher blurred σ2", "reference: the photo"]
    assert all(list(distances) == ["x1", "x2", "x4"] for distances in rows.values())
    # Noise photos against 16-px stripes: far apart at every scale.
    assert all(value > 0.1 for value in rows["reference: the photo"].values())
    assert report["frames"] == 2 and str(tmp_path) not in report["command"]
    assert plot.stat().st_size > 0


@pytest.mark.parametrize("words, message", [
    (["--count", "0"], "--count must be at least 1, got 0"),
    (["--frames", "{small}"], "frames of 64x64 are too small to shrink 4x"),
    (["--student", "nolabel"], "--student wants LABEL=CHECKPOINT.npz, got 'nolabel'"),
])
def test_bad_input_is_one_line_and_writes_nothing(benchmark, inputs, tmp_path, capsys, words, message):
    out = tmp_path / "scale.json"
    options = {"--frames": str(inputs["frames"]), "--student": f"a={inputs['student']}",
               "--vgg-weights": str(inputs["vgg"]), "--json": str(out)}
    options.update({flag: value.format(small=inputs["small"]) for flag, value in zip(words[::2], words[1::2])})
    assert benchmark.main([word for pair in options.items() for word in pair]) == 1
    error = capsys.readouterr().err
    assert error.strip() == f"error: {message}" and error.count("\n") == 1
    assert not out.exists()
