"""The benchmark scripts record paths through mobilestyle.portable_paths: what they write (JSON, markdown,
the command of a run) holds no absolute path of the machine, whatever paths they were given."""

import json
from pathlib import Path

import pytest

from mobilestyle.portable_paths import portable_words
from tests.conftest import REPO_ROOT, load_script
from tests.models.test_shipped_styles import absolute_paths

SHARED = REPO_ROOT.parent / "shared" / "data"


def load_benchmark(name: str):
    return load_script(REPO_ROOT / "benchmarks" / f"{name}.py", f"benchmark_{name}")


def test_portable_words_makes_whole_words_and_values_after_equals_portable(tmp_path):
    repo = tmp_path / "repo"
    words = ["--teacher", "/x/shared/data/teachers/ml5/la_muse", f"--out={repo}/benchmarks/n", "--count", "4",
             "muse=/elsewhere/runs/muse/muse.distill", "--work-dir", "/tmp/scratch/work", "a=b", "rel/p",
             Path("/o/m.npz")]
    assert portable_words(words, repo) == [
        "--teacher", "../shared/data/teachers/ml5/la_muse", "--out=benchmarks/n", "--count", "4",
        "muse=runs/muse/muse.distill", "--work-dir", "work", "a=b", "rel/p", "m.npz"]


@pytest.mark.parametrize("name", ["norm_comparison", "emulator_vs_runner"])
def test_a_run_s_recorded_command_holds_no_absolute_path(name):
    module = load_benchmark(name)
    command = module.command_line(["--teacher", str(SHARED / "teachers/ml5/la_muse"), "--count", "4",
                                   f"--out={REPO_ROOT / 'benchmarks' / name}", "--model", "/tmp/x/small.mlmodel"])
    assert absolute_paths(command) == [], command
    assert command == (f"python benchmarks/{name}.py --teacher ../shared/data/teachers/ml5/la_muse --count 4 "
                       f"--out=benchmarks/{name} --model small.mlmodel")


def test_loss_networks_json_records_portable_paths_and_the_figures_as_measured():
    module = load_benchmark("loss_networks")
    photos = [SHARED / "content/bsds500/test/100007.jpg", Path("photos/2.jpg")]
    rows = [{"label": "photos (no style)", "gram_distance": 0.7341},
            {"label": "partial", "checkpoint": "/work/runs/s4/wave/wave.npz", "loss_network": "vgg19 (v.npz)",
             "steps": 199, "minutes": None, "gram_distance": 0.4125}]
    result = module.record(SHARED / "styles/wave.jpg", 256, "vgg19 (v.npz)", photos, rows)
    assert absolute_paths(json.loads(json.dumps(result))) == []
    assert result["style_image"] == "../shared/data/styles/wave.jpg"
    assert result["photos"] == ["../shared/data/content/bsds500/test/100007.jpg", "photos/2.jpg"]
    assert result["results"] == [rows[0], {**rows[1], "checkpoint": "runs/wave/wave.npz"}]
    assert list(result) == ["style_image", "style_size", "reference_network", "photos", "size", "results"]


def test_optimize_iterations_json_records_portable_paths_and_the_figures_as_measured():
    module = load_benchmark("optimize_iterations")
    snapshots = [{"iterations": 0, "gram_distance": 0.7552}]
    result = module.record(module.SHARED / "content/bsds500/test/100007.jpg", REPO_ROOT / "styles/mine.jpg", 256,
                           "vgg19 (v.npz)", snapshots, [1.23456, 0.5])
    assert absolute_paths(json.loads(json.dumps(result))) == []
    assert result["photo"] == "../shared/data/content/bsds500/test/100007.jpg"
    assert result["style_image"] == "styles/mine.jpg"
    assert result["snapshots"] == snapshots and result["loss_per_evaluation"] == [1.2346, 0.5]
