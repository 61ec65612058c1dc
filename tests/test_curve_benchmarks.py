"""benchmarks/perceptual_curve.py and distill_curve.py: runs' curves (work folders or CSVs, and an earlier
table) gathered into one labelled table and plot; bad LABEL=FOLDER words and missing curves are UserErrors."""

import csv
import json

import pytest

from mobilestyle.errors import UserError
from mobilestyle.training.distill_report import write_curve_files
from tests.conftest import REPO_ROOT, load_script

CURVE = [{"step": 0, "minutes": 0.0, "cpu_minutes": 0.4, "structure_psnr": 19.0, "gram_distance": 0.9,
          "detail_ratio": 0.8, "border": 12.0, "psnr": 14.0, "ssim": 0.2},
         {"step": 50, "minutes": 5.0, "cpu_minutes": 9.6, "structure_psnr": 20.0, "gram_distance": 0.7,
          "detail_ratio": 0.9, "border": 11.0, "psnr": 15.0, "ssim": 0.25}]


@pytest.fixture()
def runs(tmp_path):
    """Two work folders: `a.distill` with a final report, `b.distill` with its curve only."""
    folders = {}
    for name, shift in (("a", 0.0), ("b", 1.0)):
        folder = tmp_path / f"{name}.distill"
        folder.mkdir()
        curve = [{**point, "structure_psnr": point["structure_psnr"] + shift} for point in CURVE]
        write_curve_files(folder / "curve.csv", folder / "curve.png", curve, name)
        folders[name] = folder
    (folders["a"] / "report.json").write_text(json.dumps({"eval": {"psnr_db": 15.1, "ssim": 0.26, "frames": 30}}))
    return folders


def read_table(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.parametrize("script", ["perceptual_curve", "distill_curve"])
def test_runs_and_an_earlier_table_are_gathered_in_order(script, runs, tmp_path):
    benchmark = load_script(REPO_ROOT / "benchmarks" / f"{script}.py", script)
    benchmark.main(["--run", f"first={runs['a']}", "--out", str(tmp_path / "earlier")])
    benchmark.main(["--earlier", str(tmp_path / "earlier.csv"), "--run", f"second={runs['b'] / 'curve.csv'}",
                    "--out", str(tmp_path / "both")])
    table = read_table(tmp_path / "both.csv")
    assert [row["run"] for row in table] == ["first", "first", "second", "second"]
    assert [row["step"] for row in table] == ["0", "50", "0", "50"]
    assert float(table[-1]["psnr"]) == 15.0
    assert (tmp_path / "both.png").stat().st_size > 0


@pytest.mark.parametrize("script", ["perceptual_curve", "distill_curve"])
@pytest.mark.parametrize("words, message", [
    (["--run", "unlabelled"], "--run wants LABEL=WORK_FOLDER, got 'unlabelled'"),
    (["--run", "x={a}", "--run", "x={a}"], "--run x is given twice"),
    (["--run", "x={missing}"], "no curve at"),
])
def test_bad_runs_are_user_errors(script, words, message, runs, tmp_path):
    benchmark = load_script(REPO_ROOT / "benchmarks" / f"{script}.py", script)
    words = [word.format(a=runs["a"], missing=tmp_path / "missing") for word in words]
    with pytest.raises(UserError, match=message):
        benchmark.main([*words, "--out", str(tmp_path / "out")])
    assert not (tmp_path / "out.csv").exists()
