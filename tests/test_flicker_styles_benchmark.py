"""benchmarks/flicker_styles.py: the per-style table, JSON and plot on a tiny generated clip with fake nets
(the loaders monkeypatched: a teacher paints a static pattern over the frame, which flickers because it does
not move with the picture), and the one-line refusals of bad input. No ../shared data is needed."""

import json
import runpy
import sys

import cv2
import numpy as np
import pytest

from mobilestyle.evaluation.evaluate import Student, Teacher
from mobilestyle.styles import TEACHER_FOLDERS
from tests.conftest import REPO_ROOT, load_script
from tests.media import write_clip

SCRIPT = REPO_ROOT / "benchmarks" / "flicker_styles.py"
SIZE = (64, 36)
PATTERN = (np.indices((SIZE[1], SIZE[0])).sum(0) % 2)[..., None] * 60.0


def with_pattern(image: np.ndarray, strength: float) -> np.ndarray:
    return np.clip(image + strength * PATTERN, 0, 255).astype(np.uint8)


# muse's fake student is blurrier and steadier than its teacher; wave's paints the pattern harder than its
# teacher (detail ratio above 1: right of the blur curve, where only a lower bound is given).
STUDENTS = {"muse": lambda image: with_pattern(cv2.GaussianBlur(image, (0, 0), 1.0), 0.3),
            "wave": lambda image: with_pattern(np.roll(image, 1, axis=1), 1.5)}


@pytest.fixture(scope="module")
def styles_script():
    return load_script(SCRIPT, "benchmark_flicker_styles")


@pytest.fixture
def teachers(tmp_path):
    folder = tmp_path / "teachers"
    for name in set(TEACHER_FOLDERS.values()):
        (folder / name).mkdir(parents=True)
    return folder


@pytest.fixture
def video(tmp_path):
    return write_clip(tmp_path / "clip.mp4", frames=5, size=SIZE, audio=False)


@pytest.fixture
def fake_nets(styles_script, monkeypatch):
    """Tiny frames and fake loaders; returns how many times the optical flow was computed."""
    flow_calls, real_flows = [], styles_script.clip_flows

    def counted_flows(frames):
        flow_calls.append(len(frames))
        return real_flows(frames)

    def teacher(folder, size):
        return Teacher(f"ml5:{folder.name}", folder.name, "fake", lambda image: with_pattern(image, 1.0))

    def student(name, size):
        return Student(name, name, "checkpoint", "fake", STUDENTS[name]), None

    monkeypatch.setattr(styles_script, "frame_size", lambda: SIZE)
    monkeypatch.setattr(styles_script, "load_teacher_net", teacher)
    monkeypatch.setattr(styles_script, "style_student", student)
    monkeypatch.setattr(styles_script, "clip_flows", counted_flows)
    return flow_calls


def test_each_style_gets_a_table_row_a_json_entry_and_a_panel_from_one_optical_flow(
        styles_script, fake_nets, teachers, video, tmp_path, capsys):
    out = tmp_path / "out"
    styles_script.main(["--video", str(video), "--frames", "5", "--style", "muse", "--style", "wave",
                        "--teachers", str(teachers), "--json", str(out / "styles.json"),
                        "--plot", str(out / "styles.png")])
    assert fake_nets == [5]

    document = json.loads((out / "styles.json").read_text())
    assert (document["video"], document["frames"], document["size"]) == ("clip.mp4", 5, list(SIZE))
    assert document["teacher_blur"] == [0.5, 0.75, 1.0]
    muse, wave = document["styles"]
    assert (muse["style"], muse["teacher"], muse["student"]) == ("muse", "la_muse", "models/muse.npz")
    assert [row["kind"] for row in muse["rows"]] == ["blurred teacher"] * 3 + ["teacher", "student"]
    teacher_row, student_row = muse["rows"][3:]
    assert teacher_row["row"] == "teacher ml5:la_muse" and student_row["row"] == "student muse"
    assert muse["teacher_warping_error"] == teacher_row["warping_error"]
    assert muse["student_warping_error"] == student_row["warping_error"]
    assert muse["student_over_teacher"] == pytest.approx(student_row["warping_error"] / teacher_row["warping_error"])
    assert muse["student_over_teacher"] < 1
    assert 0 < muse["student_detail_ratio"] < 1
    assert muse["steadier_than_blur"] == student_row["steadier_than_blur"] > 0
    assert wave["student_detail_ratio"] > 1 and "steadier_than_blur" not in wave
    assert wave["steadier_than_blur_at_least"] == pytest.approx(
        wave["teacher_warping_error"] / wave["student_warping_error"])
    assert "/" not in json.dumps(document).replace("models/muse.npz", "").replace("models/wave.npz", "")

    table = capsys.readouterr().out
    assert "| style | teacher warping error (x1e-3) | student warping error (x1e-3) | student / teacher" in table
    assert f"| {muse['steadier_than_blur']:.2f} |" in table.splitlines()[-2]
    assert table.splitlines()[-1].endswith(f"| ≥ {wave['steadier_than_blur_at_least']:.2f} |")
    assert (out / "styles.png").read_bytes().startswith(b"\x89PNG")


def test_every_shipped_style_and_three_blurs_by_default_and_given_blurs_replace_them(styles_script):
    default = styles_script.parse_args(["--video", "clip.mp4"])
    assert default.style == ["muse", "scream", "udnie", "wave", "wreck", "rain_princess", "muse_instance"]
    assert default.teacher_blur == [0.5, 0.75, 1.0]
    given = styles_script.parse_args(["--video", "clip.mp4", "--style", "wave", "--style", "wave",
                                      "--teacher-blur", "2"])
    assert (given.style, given.teacher_blur) == (["wave"], [2.0])


@pytest.mark.parametrize("words, message", [
    (["--style", "starry_night"], "no ml5 teacher is known for style 'starry_night'"),
    (["--style", "muse", "--teachers", "{tmp}/nowhere"], "style muse: no teacher folder {tmp}/nowhere/la_muse"),
    (["--video", "{tmp}/absent.mp4"], "cannot read {tmp}/absent.mp4"),
    (["--teacher-blur", "0"], "--teacher-blur must be above 0 px, got 0"),
    (["--frames", "1"], "--frames at least 2"),
])
def test_bad_input_stops_with_one_line_and_writes_nothing(words, message, teachers, video, tmp_path, monkeypatch):
    out = tmp_path / "out"
    words = [word.replace("{tmp}", str(tmp_path)) for word in words]
    if "--video" not in words:
        words += ["--video", str(video)]
    if "--teachers" not in words:
        words += ["--teachers", str(teachers)]
    monkeypatch.setattr(sys, "argv", [str(SCRIPT), *words, "--json", str(out / "styles.json"),
                                      "--plot", str(out / "styles.png")])
    with pytest.raises(SystemExit) as stopped:
        runpy.run_path(str(SCRIPT), run_name="__main__")
    assert isinstance(stopped.value.code, str) and "\n" not in stopped.value.code
    assert message.replace("{tmp}", str(tmp_path)) in stopped.value.code
    assert not out.exists()
