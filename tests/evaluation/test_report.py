"""report.json and grid.png: layout, JSON safety, writing both or neither."""

import json
from pathlib import Path

import numpy as np
import pytest

from mobilestyle.errors import UserError
from mobilestyle.evaluation.evaluate import Student, Teacher, evaluate
from mobilestyle.evaluation.report import (GAP, HEADER, build_report, centre_crop, check_out_dir, clean,
                                           render_grid, summary_rows, write_outputs)

from tests.models.test_shipped_styles import absolute_paths

from .conftest import SMALL, random_frames


def toy_evaluation(photos: int = 3, grid_photos: int = 2):
    """A teacher that inverts the frame; a student that inverts and darkens; another that returns the photo."""
    teacher = Teacher("invert", "invert", "", lambda image: 255 - image)
    students = [Student("dark", "dark.npz", "checkpoint", "", lambda image: ((255 - image) // 2).astype(np.uint8)),
                Student("copy", "copy.npz", "checkpoint", "", lambda image: image)]
    frames = random_frames(photos, seed=2)
    return evaluate(students, teacher, frames, [f"photo{i}.png" for i in range(photos)], None,
                    grid_photos=grid_photos), frames


def test_grid_rows_hold_half_size_frames_and_full_size_crops():
    evaluation, frames = toy_evaluation()
    grid = render_grid(evaluation)
    half_w, half_h = SMALL[0] // 2, SMALL[1] // 2
    side = half_h
    assert grid.shape == (HEADER + 2 * (half_h + GAP) + GAP, 4 * half_w + 3 * side + 8 * GAP, 3)
    # Second row (the last photo): the teacher's 100% crop, then the 'dark' student's.
    top = HEADER + half_h + GAP
    left = GAP + 4 * (half_w + GAP)
    teacher = 255 - frames[2]
    np.testing.assert_array_equal(grid[top:top + side, left:left + side], centre_crop(teacher, side))
    left += side + GAP
    np.testing.assert_array_equal(grid[top:top + side, left:left + side], centre_crop((255 - frames[2]) // 2, side))
    # The photo itself, at half size, opens each row.
    assert np.abs(grid[HEADER:HEADER + half_h, GAP:GAP + half_w].astype(int).mean() - frames[0].mean()) < 2


def test_report_holds_rows_means_calibration_and_a_style_quality_block():
    evaluation, _ = toy_evaluation()
    report = build_report(evaluation, [], None)
    assert [row["photo"] for row in report["per_photo"]] == ["photo0.png", "photo1.png", "photo2.png"]
    assert set(report["per_photo"][0]["students"]) == {"dark", "copy"}
    assert set(report["means"]["calibration"]) == {"teacher_shifted", "teacher_blurred", "photo"}
    # The 'copy' student is the photo itself: its row equals the photo calibration row.
    assert report["means"]["students"]["copy"] == report["means"]["calibration"]["photo"]
    quality = report["students"][0]["quality"]
    assert quality["psnr_db"] == report["means"]["students"]["dark"]["psnr"]
    assert quality["reference_border"] == report["means"]["students"]["dark"]["reference_border"]
    assert set(quality["calibration"]) == {"teacher_shifted", "teacher_blurred"}
    assert quality["frames"] == 3 and quality["size"] == "128x72"
    assert report["measures"]["gram_distance"] == "not measured"
    json.dumps(report, allow_nan=False)
    titles = [title for title, _ in summary_rows(report)]
    assert titles == ["dark", "copy", "shifted teacher", "blurred teacher", "photo"]
    assert summary_rows(report)[0][1][1] == "-"  # no texture measure without a loss network


def test_clean_turns_nan_into_null():
    assert clean({"a": float("nan"), "b": [1.0, float("inf")], "c": "x"}) == {"a": None, "b": [1.0, None], "c": "x"}


def test_outputs_are_written_both_or_neither(tmp_path):
    evaluation, _ = toy_evaluation()
    grid = render_grid(evaluation)
    out = tmp_path / "new" / "report"
    with pytest.raises(TypeError):
        write_outputs(out, {"unserializable": object()}, grid)
    assert not out.exists()
    existing = tmp_path / "existing"
    existing.mkdir()
    (existing / "keep.txt").write_text("mine")
    with pytest.raises(TypeError):
        write_outputs(existing, {"unserializable": object()}, grid)
    assert sorted(p.name for p in existing.iterdir()) == ["keep.txt"]
    report_path, grid_path = write_outputs(existing, build_report(evaluation, [], None), grid)
    assert sorted(p.name for p in existing.iterdir()) == ["grid.png", "keep.txt", "report.json"]
    assert json.loads(report_path.read_text())["grid"] == "grid.png"


def test_out_must_be_able_to_become_a_folder(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(UserError, match="exists and is not a folder"):
        check_out_dir(tmp_path / "file")
    check_out_dir(tmp_path / "a" / "b")
    assert not (tmp_path / "a").exists()


def test_a_teacher_named_by_an_absolute_path_is_reported_portably(tmp_path, monkeypatch):
    """report.json holds no absolute path, whatever the teacher's label (a path from a checkpoint's metadata)."""
    monkeypatch.chdir(tmp_path)
    teacher = Teacher("/elsewhere/runs/la_muse/teacher.npz", "teacher.npz", "", lambda image: 255 - image)
    student = Student("copy", "copy.npz", "checkpoint", "", lambda image: image)
    evaluation = evaluate([student], teacher, random_frames(2, seed=4), ["p0.png", "p1.png"], None, grid_photos=1)
    report = build_report(evaluation, [tmp_path / "photos", Path("/elsewhere/bsds")], None)
    assert report["teacher"]["name"] == "runs/la_muse/teacher.npz"
    assert report["photos"]["folders"] == ["photos", "bsds"]
    report_path, _ = write_outputs(tmp_path / "out", report, render_grid(evaluation))
    assert absolute_paths(json.loads(report_path.read_text())) == []
