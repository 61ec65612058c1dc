"""benchmarks/flicker.py's --label and --quality-from: what goes into the JSON's "labels", "quality" and
"quality_source", and the one-line refusals, on small JSON files (no video, no net is run); and its rows
with fake nets on a tiny generated clip, "x steadier than blur" included."""

import json
import runpy
import sys

import numpy as np
import pytest

from mobilestyle.errors import UserError
from mobilestyle.evaluation.evaluate import Student, Teacher
from tests.conftest import REPO_ROOT, load_script
from tests.media import write_clip

SCRIPT = REPO_ROOT / "benchmarks" / "flicker.py"
FIGURES = {"structure_psnr": 20.1644, "gram_distance": 1.104, "detail_ratio": 0.7024, "border": 5.1375,
           "psnr": 15.2186, "ssim": 0.2166}


@pytest.fixture(scope="module")
def flicker():
    return load_script(SCRIPT, "benchmark_flicker")


def distill_report(folder, **eval_figures):
    """A report.json as `mobilestyle distill` writes it beside its checkpoint (only the fields read here)."""
    folder.mkdir(parents=True)
    path = folder / "report.json"
    path.write_text(json.dumps({"checkpoint": "muse.npz", "steps": 309,
                                "eval": {"frames": 30, "size": "853x480", **eval_figures, "psnr_db": 15.2186}}))
    return path


def test_labels_and_quality_are_keyed_by_the_model_s_file_name_with_portable_sources(flicker, tmp_path):
    report = distill_report(tmp_path / "runs" / "stable1000" / "muse_noise2.distill", **FIGURES)
    shipped = REPO_ROOT / "models" / "muse.json"
    models = [REPO_ROOT / "models" / "muse.npz", tmp_path / "runs" / "stable1000" / "muse_noise2.npz"]
    notes = flicker.model_notes(models, ["muse.npz=as shipped (weight 100)", "muse_noise2.npz=+ 20 min at w=1000"],
                                [f"muse.npz={shipped}", f"muse_noise2.npz={report}"])
    shipped_quality = json.loads(shipped.read_text())["quality"]
    assert notes == {
        "labels": {"muse.npz": "as shipped (weight 100)", "muse_noise2.npz": "+ 20 min at w=1000"},
        "quality": {"muse.npz": {key: shipped_quality[key] for key in FIGURES}, "muse_noise2.npz": FIGURES},
        "quality_source": {"muse.npz": "models/muse.json", "muse_noise2.npz": "runs/muse_noise2.distill/report.json"},
    }


def test_without_labels_or_reports_the_json_gains_no_section(flicker):
    assert flicker.model_notes([REPO_ROOT / "models" / "muse.npz"], [], []) == {}


@pytest.mark.parametrize("word", ["muse.npz", "=text", "muse.npz="])
def test_a_word_that_is_not_name_equals_value_is_refused(flicker, word):
    with pytest.raises(UserError, match="--label wants FILE_NAME=TEXT"):
        flicker.model_notes([REPO_ROOT / "models" / "muse.npz"], [word], [])


def test_a_name_given_twice_is_refused(flicker):
    with pytest.raises(UserError, match="--quality-from muse.npz is given twice"):
        flicker.model_notes([REPO_ROOT / "models" / "muse.npz"], [], ["muse.npz=a.json", "muse.npz=b.json"])


def test_a_name_that_no_model_has_is_refused(flicker):
    with pytest.raises(UserError, match="--label udnie.npz: no --model has that file name"):
        flicker.model_notes([REPO_ROOT / "models" / "muse.npz"], ["udnie.npz=text"], [])


def test_two_models_with_one_file_name_are_ambiguous(flicker, tmp_path):
    models = [tmp_path / "a" / "muse.npz", tmp_path / "b" / "muse.npz"]
    with pytest.raises(UserError, match="--label muse.npz: 2 --model paths have that file name"):
        flicker.model_notes(models, ["muse.npz=text"], [])
    with pytest.raises(UserError, match="--quality-from muse.npz: 2 --model paths"):
        flicker.model_notes(models, [], [f"muse.npz={REPO_ROOT / 'models' / 'muse.json'}"])


def test_reports_that_cannot_give_the_figures_are_refused(flicker, tmp_path):
    no_gram = distill_report(tmp_path / "no_gram.distill", **{**FIGURES, "gram_distance": None})
    no_sections = tmp_path / "other.json"
    no_sections.write_text(json.dumps({"rows": []}))
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    with pytest.raises(UserError, match="lacks gram_distance$"):
        flicker.quality_figures(no_gram)
    with pytest.raises(UserError, match="has no \"eval\""):
        flicker.quality_figures(no_sections)
    with pytest.raises(UserError, match="cannot read .*broken.json"):
        flicker.quality_figures(broken)
    with pytest.raises(UserError, match="cannot read .*missing.json"):
        flicker.quality_figures(tmp_path / "missing.json")


def test_the_script_stops_with_one_line_before_running_anything_and_writes_nothing(flicker, tmp_path, monkeypatch):
    out = tmp_path / "flicker.json"
    monkeypatch.setattr(sys, "argv", [str(SCRIPT), "--video", str(tmp_path / "absent.mp4"),
                                      "--model", str(tmp_path / "muse.npz"),
                                      "--quality-from", f"muse.npz={tmp_path / 'missing.json'}", "--json", str(out)])
    with pytest.raises(SystemExit) as stopped:
        runpy.run_path(str(SCRIPT), run_name="__main__")
    assert isinstance(stopped.value.code, str) and "\n" not in stopped.value.code
    assert stopped.value.code.startswith(f"cannot read {tmp_path / 'missing.json'}")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("options, message", [
    ([], "give --teacher and/or --style / --model"),
    (["--model", "muse.npz", "--teacher-blur", "1"], "--teacher-blur and --plot need --teacher"),
])
def test_missing_nets_stop_the_script_before_any_net_is_loaded(options, message, tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "argv", [str(SCRIPT), "--video", str(tmp_path / "clip.mp4"), *options])
    monkeypatch.setattr("mobilestyle.evaluation.evaluate.load_student",
                        lambda *args: pytest.fail("a net was loaded before the options were checked"))
    with pytest.raises(SystemExit) as stopped:
        runpy.run_path(str(SCRIPT), run_name="__main__")
    assert stopped.value.code == message


def test_student_rows_get_x_steadier_than_blur_in_the_table_and_the_json(flicker, tmp_path, monkeypatch, capsys):
    """A fake teacher paints a static pattern over the frame (it flickers); the fake student paints less of it."""
    pattern = (np.indices((36, 64)).sum(0) % 2)[..., None] * 60.0

    def painter(strength):
        return lambda image: np.clip(image + strength * pattern, 0, 255).astype(np.uint8)

    monkeypatch.setattr(flicker, "frame_size", lambda: (64, 36))
    monkeypatch.setattr(flicker, "load_teacher_net", lambda path, size: Teacher("ml5:fake", "", "", painter(1.0)))
    monkeypatch.setattr(flicker, "style_student",
                        lambda name, size: (Student(name, name, "", "", painter(0.6)), None))
    video = write_clip(tmp_path / "clip.mp4", frames=4, size=(64, 36), audio=False)
    monkeypatch.setattr(sys, "argv", [str(SCRIPT), "--video", str(video), "--frames", "4", "--teacher", "fake",
                                      "--teacher-blur", "0.5", "--teacher-blur", "1", "--style", "muse",
                                      "--damper", "0.5", "--json", str(tmp_path / "flicker.json")])
    flicker.main()
    rows = json.loads((tmp_path / "flicker.json").read_text())["rows"]
    assert [row["row"] for row in rows] == [
        "input (floor)", "teacher ml5:fake blurred (sigma 0.5 px)", "teacher ml5:fake blurred (sigma 1 px)",
        "teacher ml5:fake", "student muse", "student muse + FlowDamper(0.5)"]
    assert [row["row"] for row in rows if "steadier_than_blur" in row] == ["student muse"]
    student = rows[4]
    assert rows[2]["detail_ratio"] < student["detail_ratio"] < 1
    assert student["steadier_than_blur"] == pytest.approx(flicker_curve_at(rows, student) / student["warping_error"])
    table = capsys.readouterr().out
    assert "| detail ratio | x steadier than blur | PSNR vs undamped |" in table
    assert f"| {student['detail_ratio']:.2f} | {student['steadier_than_blur']:.2f} |  |" in table


def flicker_curve_at(rows, student):
    """The blurred teachers' and the teacher's warping error, linear in the detail ratio, at the student's."""
    curve = sorted((row["detail_ratio"], row["warping_error"]) for row in rows
                   if row.get("kind") in ("teacher", "blurred teacher"))
    return np.interp(student["detail_ratio"], *zip(*curve))
