"""benchmarks/chain_curve.py: runs that continue one another joined into one curve (offsets, the repeated
step-0 point dropped, an earlier joined CSV continued), and the one-line refusals."""

import csv

import pytest

from mobilestyle.training.distill_report import read_curve
from tests.conftest import REPO_ROOT, load_script

HEADER = "step,minutes,cpu_minutes,structure_psnr,gram_distance,detail_ratio,border,reference_border,psnr,ssim"


@pytest.fixture(scope="module")
def benchmark():
    return load_script(REPO_ROOT / "benchmarks" / "chain_curve.py", "chain_curve")


def run_folder(root, name, rows):
    folder = root / f"{name}.distill"
    folder.mkdir()
    (folder / "curve.csv").write_text("\n".join([HEADER, *rows]) + "\n")
    return folder


@pytest.fixture
def two_runs(tmp_path):
    first = run_folder(tmp_path, "first", ["0,0.0,0.4,14.0,3.0,0.88,17.0,17.7,11.4,0.09",
                                            "180,10.0,18.5,19.2,0.71,0.81,14.1,17.7,14.3,0.16"])
    second = run_folder(tmp_path, "second", ["0,0.0,0.38,19.2,0.71,0.81,14.1,17.7,14.3,0.16",
                                              "99,5.04,10.431,19.5,0.6,0.9,14.0,17.7,14.5,0.17"])
    return first, second


def test_a_continuation_is_offset_by_the_run_before_and_loses_its_repeated_start(benchmark, two_runs, tmp_path):
    out = tmp_path / "chain"
    assert benchmark.main(["--run", str(two_runs[0]), "--run", str(two_runs[1]), "--title", "t", "--out", str(out)]) == 0
    rows = list(csv.DictReader(open(out.with_suffix(".csv"))))
    assert [(row["step"], row["minutes"], row["cpu_minutes"], row["run"]) for row in rows] == [
        ("0", "0.0", "0.4", "1"), ("180", "10.0", "18.5", "1"), ("279", "15.04", "28.931", "2")]
    assert rows[-1]["structure_psnr"] == "19.5"
    assert out.with_suffix(".png").stat().st_size > 1000


def test_an_earlier_joined_csv_is_continued_with_the_next_run_number(benchmark, two_runs, tmp_path):
    earlier = tmp_path / "earlier"
    benchmark.main(["--run", str(two_runs[0]), "--run", str(two_runs[1]), "--title", "t", "--out", str(earlier)])
    third = run_folder(tmp_path, "third", ["0,0.0,0.3,19.5,0.6,0.9,14.0,17.7,14.5,0.17",
                                            "50,5.0,9.0,19.9,0.55,0.92,14.0,17.7,14.6,0.18"])
    out = tmp_path / "chain"
    assert benchmark.main(["--earlier", str(earlier.with_suffix(".csv")), "--run", str(third), "--title", "t",
                           "--out", str(out)]) == 0
    rows = list(csv.DictReader(open(out.with_suffix(".csv"))))
    assert [(row["step"], row["cpu_minutes"], row["run"]) for row in rows[-2:]] == [("279", "28.931", "2"),
                                                                                   ("329", "37.931", "3")]


def test_bad_input_is_one_line_and_writes_nothing(benchmark, tmp_path, capsys):
    (tmp_path / "not_a_curve.csv").write_text("a,b\n1,2\n")
    out = tmp_path / "chain"
    for argv, message in [(["--run", str(tmp_path / "missing.distill")], "no curve at"),
                          (["--run", str(tmp_path / "not_a_curve.csv")], "is not a distillation curve"),
                          ([], "give at least one --run")]:
        assert benchmark.main([*argv, "--title", "t", "--out", str(out)]) == 1
        error = capsys.readouterr().err
        assert error.startswith("error: ") and message in error and error.count("\n") == 1
    assert sorted(path.name for path in tmp_path.iterdir()) == ["not_a_curve.csv"]


def test_the_committed_muse_instance_curve_is_a_joined_chain(benchmark):
    rows = read_curve(REPO_ROOT / "benchmarks" / "muse_instance_curve.csv", ("run", "step"))
    steps = [row["step"] for row in rows]
    assert steps == sorted(steps) and len(set(steps)) == len(steps)
    assert [row["run"] for row in rows] == sorted(row["run"] for row in rows)
