"""`mobilestyle evaluate` from the command line: a small end-to-end run and one-line errors that write nothing."""

import json
import shutil

import pytest
from PIL import Image

from mobilestyle.networks.checkpoint import save_checkpoint
from mobilestyle.training.targets import TEACHER_PAD
from tests.training.synthetic import write_vgg_npz
from tests.training.test_teachers import write_ml5_folder

from tests.cli.conftest import assert_one_line_error
from .conftest import SMALL, VGG19_LAYERS, tiny_checkpoint


def evaluate_args(inputs, out, *extra):
    return ["evaluate", "--teacher", inputs["teacher"], "--photos", inputs["photos"], "--count", "3",
            "--vgg-weights", inputs["vgg"], "--out", out, *extra]


def test_two_students_end_to_end(run_cli, inputs, small_frames, tmp_path, monkeypatch):
    monkeypatch.chdir(inputs["photos"].parent)
    out = tmp_path / "report"
    code, stdout, stderr = run_cli(*evaluate_args(inputs, out, "--model", inputs["student_a"],
                                                  "--model", inputs["student_b"]))
    assert code == 0, stderr
    assert sorted(p.name for p in out.iterdir()) == ["grid.png", "report.json"]
    text = (out / "report.json").read_text()
    report = json.loads(text)
    assert str(tmp_path) not in text and str(inputs["photos"].parent) not in text
    assert report["size"] == "128x72"
    assert report["teacher"]["reflect_pad"] == TEACHER_PAD  # the teacher as distill makes its targets
    assert [s["name"] for s in report["students"]] == ["a.npz", "b.npz"]
    assert [s["source"] for s in report["students"]] == ["a.npz", "b.npz"]  # relative to the working folder
    assert report["photos"] == {"folders": ["photos"], "count": 3, "frames": report["photos"]["frames"]}
    assert [row["photo"] for row in report["per_photo"]] == ["photos/photo0.png", "photos/photo2.png",
                                                             "photos/photo4.png"]
    for row in report["per_photo"]:
        assert set(row["students"]) == {"a.npz", "b.npz"}
        assert set(row["calibration"]) == {"teacher_shifted", "teacher_blurred", "photo"}
        assert all(scores["gram_distance"] > 0 for scores in row["students"].values())
    means = report["means"]["students"]["a.npz"]
    assert means["psnr"] == pytest.approx(sum(r["students"]["a.npz"]["psnr"] for r in report["per_photo"]) / 3,
                                          abs=1e-3)
    assert "relu1_2/relu2_2/relu3_4" in report["measures"]["gram_distance"]
    with Image.open(out / "grid.png") as grid:
        half_w, half_h = SMALL[0] // 2, SMALL[1] // 2
        assert grid.size == (4 * half_w + 3 * half_h + 8 * 4, 16 + 3 * (half_h + 4) + 4)
    assert "a.npz" in stdout and "b.npz" in stdout
    assert "shifted" in stdout and "blurred" in stdout and "wrote" in stdout


@pytest.fixture
def style_folder(tmp_path, monkeypatch, inputs):
    folder = tmp_path / "models"
    folder.mkdir()
    shutil.copy(inputs["student_a"], folder / "tiny.npz")
    (folder / "tiny.json").write_text(json.dumps({"teacher": "ml5 la_muse"}))
    monkeypatch.setenv("MOBILESTYLE_MODELS", str(folder))
    monkeypatch.setenv("MOBILESTYLE_CACHE", str(tmp_path / "cache"))
    return folder


def test_a_named_style_is_a_student(run_cli, inputs, small_frames, style_folder, tmp_path):
    out = tmp_path / "report"
    code, stdout, stderr = run_cli(*evaluate_args(inputs, out, "--style", "tiny"))
    assert code == 0, stderr
    report = json.loads((out / "report.json").read_text())
    assert report["students"][0]["name"] == "tiny"
    assert report["students"][0]["source"] == "style tiny (tiny.npz)"
    assert "names its teacher 'ml5 la_muse" in stdout  # --teacher teacher.npz is not the one it names

    # The report's quality block, stored in the style's JSON, is what `mobilestyle styles` shows.
    quality = report["students"][0]["quality"]
    (style_folder / "tiny.json").write_text(json.dumps({"teacher": "ml5 la_muse", "quality": quality}))
    code, stdout, _ = run_cli("styles")
    assert code == 0
    words = stdout.split()
    assert f"{quality['structure_psnr']:.2f}" in words and "texture" in words
    assert f"({quality['calibration']['teacher_shifted']['structure_psnr']:.2f})" in words
    assert f"{quality['detail_ratio']:.2f}" in words and "(mobilestyle evaluate)" in " ".join(words)


def test_a_named_style_without_teacher_says_which_teacher(run_cli, inputs, small_frames, style_folder,
                                                          tmp_path):
    out = tmp_path / "report"
    code, _, stderr = run_cli("evaluate", "--style", "tiny", "--photos", inputs["photos"], "--out", out)
    assert_one_line_error(code, stderr, "give --teacher")
    assert "style tiny names its teacher: ml5 la_muse" in stderr
    assert not out.exists()


def corrupt_mlmodel(tmp_path):
    path = tmp_path / "broken.mlmodel"
    path.write_bytes(b"\x08\x05not a protobuf at all" * 20)
    return path


def corrupt_checkpoint(tmp_path):
    path = tmp_path / "broken.npz"
    path.write_bytes(b"PK\x03\x04 truncated zip")
    return path


def truncated_synthetic_teacher(tmp_path):
    folder = write_ml5_folder(tmp_path / "synthetic_teacher")
    (folder / "Variable_9").write_bytes((folder / "Variable_9").read_bytes()[:1000])
    return folder


def empty_folder(tmp_path):
    folder = tmp_path / "empty"
    folder.mkdir()
    return folder


def vgg16(tmp_path):
    """A VGG16 through block3 (it has relu3_3, not VGG19's relu3_4)."""
    layers = {**VGG19_LAYERS}
    layers.pop("block3_conv4")
    return write_vgg_npz(tmp_path / "vgg16.npz", layers)


@pytest.mark.parametrize("option, make, fragment", [
    ("--model", corrupt_mlmodel, "is not a Core ML model"),
    ("--model", corrupt_checkpoint, "is not a readable mobilestyle checkpoint"),
    ("--model", lambda tmp_path: tmp_path / "missing.mlpackage", "does not exist"),
    ("--teacher", truncated_synthetic_teacher, "Variable_9 (Variable_9) has 1000 bytes"),
    ("--photos", empty_folder, "has no images"),
    ("--vgg-weights", vgg16, "is a VGG16; relu3_4 needs a VGG19"),
])
def test_bad_inputs_are_one_line_errors_that_write_nothing(run_cli, inputs, small_frames, tmp_path,
                                                           option, make, fragment):
    out = tmp_path / "report"
    values = {"--model": inputs["student_a"], "--teacher": inputs["teacher"], "--photos": inputs["photos"],
              "--vgg-weights": inputs["vgg"]}
    values[option] = make(tmp_path)
    args = ["evaluate", "--count", "2", "--out", out]
    for key, value in values.items():
        args += [key, value]
    code, _, stderr = run_cli(*args)
    assert_one_line_error(code, stderr, fragment)
    assert not out.exists()


def test_a_real_ml5_teacher_with_a_truncated_variable(run_cli, inputs, shared_data, tmp_path):
    teacher = shutil.copytree(shared_data / "teachers" / "ml5" / "la_muse", tmp_path / "la_muse")
    manifest = json.loads((teacher / "manifest.json").read_text())
    variable = teacher / manifest["Variable_3"]["filename"]
    variable.write_bytes(variable.read_bytes()[:-4])
    out = tmp_path / "report"
    code, _, stderr = run_cli("evaluate", "--model", inputs["student_a"], "--teacher", teacher,
                              "--photos", inputs["photos"], "--out", out)
    assert_one_line_error(code, stderr, "(Variable_3) has 73724 bytes, shape [3, 3, 32, 64] needs 73728")
    assert not out.exists()


def test_an_existing_out_folder_keeps_its_files_when_the_input_is_bad(run_cli, inputs, small_frames,
                                                                       tmp_path):
    out = tmp_path / "report"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    code, _, stderr = run_cli(*evaluate_args(inputs, out, "--model", corrupt_mlmodel(tmp_path)))
    assert_one_line_error(code, stderr, "is not a Core ML model")
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]


@pytest.mark.parametrize("args, fragment", [
    (["--photos", "x"], "give at least one student"),
    (["--model", "a.npz"], "give --photos DIR"),
    (["--model", "a.npz", "--photos", "x", "--count", "-1"], "--count must be 0 (all) or more"),
])
def test_missing_options_are_one_line_errors(run_cli, tmp_path, args, fragment):
    code, _, stderr = run_cli("evaluate", *args, "--out", tmp_path / "out")
    assert_one_line_error(code, stderr, fragment)


def test_a_missing_teacher_is_a_one_line_error(run_cli, inputs, small_frames, tmp_path):
    code, _, stderr = run_cli("evaluate", "--model", inputs["student_a"], "--photos", inputs["photos"],
                              "--out", tmp_path / "out")
    assert_one_line_error(code, stderr, "give --teacher")


def test_out_that_is_a_file_is_refused_before_work(run_cli, inputs, tmp_path):
    (tmp_path / "out").write_text("x")
    code, _, stderr = run_cli(*evaluate_args(inputs, tmp_path / "out", "--model", inputs["student_a"]))
    assert_one_line_error(code, stderr, "exists and is not a folder")


def test_a_student_checkpoint_that_does_not_match_its_arch(run_cli, inputs, small_frames, tmp_path):
    checkpoint = tiny_checkpoint(4)
    checkpoint.weights.pop("conv1/kernel")
    path = save_checkpoint(checkpoint, tmp_path / "incomplete.npz")
    code, _, stderr = run_cli(*evaluate_args(inputs, tmp_path / "out", "--model", path))
    assert_one_line_error(code, stderr, "missing conv1/kernel")
    assert not (tmp_path / "out").exists()
