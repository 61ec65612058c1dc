import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from tests.cli.conftest import assert_one_line_error

TINY_ARCH = "blocks=1,width=0.25"


@pytest.fixture(scope="module")
def exported_model(tmp_path_factory):
    out = tmp_path_factory.mktemp("model")
    subprocess.run([sys.executable, "-m", "mobilestyle", "export", "--random-weights", "--seed", "0",
                    "--arch", TINY_ARCH, "--out", str(out)], check=True, capture_output=True)
    return out / "random-weights-seed0.mlmodel"


@pytest.fixture
def photo(tmp_path):
    path = tmp_path / "photo.jpg"
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (300, 400, 3), dtype=np.uint8)).save(path)
    return path


def test_help_lists_the_commands():
    result = subprocess.run([sys.executable, "-m", "mobilestyle", "--help"], capture_output=True, text=True)
    assert result.returncode == 0
    for command in ("inspect", "export", "stylize"):
        assert command in result.stdout


@pytest.mark.parametrize("command, note", [("distill", "(perceptual: 100, others: 0)"),
                                             ("distill", "(scratch: 4, teacher: 1)")])
def test_help_keeps_the_preset_notes(command, note):
    """Rich reads "[...]" in help text as markup and drops it: the presets' defaults must survive."""
    result = subprocess.run([sys.executable, "-m", "mobilestyle", command, "--help"], capture_output=True, text=True,
                            env={**os.environ, "COLUMNS": "400"})
    assert result.returncode == 0
    assert note in result.stdout


def test_inspect_default_prints_48_gmac(run_cli):
    code, out, _ = run_cli("inspect")
    assert code == 0
    assert "1,086,787" in out and "48.0 GMAC" in out


def test_export_random_weights_writes_model_and_contract(exported_model):
    assert exported_model.is_file() and exported_model.with_suffix(".contract.json").is_file()
    assert not [p for p in exported_model.parent.iterdir() if ".partial" in p.name]


def test_stylize_writes_a_1080p_png_named_after_the_input(run_cli, exported_model, photo, tmp_path):
    out = tmp_path / "out"
    code, _, err = run_cli("stylize", photo, "--model", exported_model, "--out", out)
    assert code == 0, err
    with Image.open(out / "photo.png") as result:
        assert result.size == (1920, 1080) and result.mode == "RGB"


@pytest.mark.parametrize("content, fragment", [
    (b"", "empty"),
    (b"not an image at all", "not an image"),
    ("truncated", "damaged or truncated"),
    ("tiny", "too small"),
])
def test_stylize_bad_images_fail_cleanly(run_cli, exported_model, tmp_path, content, fragment):
    path = tmp_path / "bad.png"
    if content == "truncated":
        Image.fromarray(np.random.default_rng(0).integers(0, 255, (200, 200, 3), dtype=np.uint8)).save(path)
        path.write_bytes(path.read_bytes()[:2000])
    elif content == "tiny":
        Image.new("RGB", (1, 1)).save(path)
    else:
        path.write_bytes(content)
    out = tmp_path / "out"
    code, _, err = run_cli("stylize", path, "--model", exported_model, "--out", out)
    assert_one_line_error(code, err, fragment)
    assert not out.exists() or list(out.iterdir()) == []


def test_stylize_unwritable_output_fails_cleanly(run_cli, exported_model, photo, tmp_path):
    blocker = tmp_path / "blocker"
    blocker.write_text("")
    code, _, err = run_cli("stylize", photo, "--model", exported_model, "--out", blocker / "out")
    assert_one_line_error(code, err, "output folder")


@pytest.mark.parametrize("kind", ["text", "npz_checkpoint", "zero_bytes"])
def test_stylize_with_a_file_that_is_not_our_model_fails_cleanly(run_cli, photo, tmp_path, kind):
    model = tmp_path / "model.mlmodel"
    if kind == "text":
        model.write_text("hello")
    elif kind == "zero_bytes":
        model.write_bytes(b"")
    else:
        np.savez(model, a=np.zeros(3))
    code, _, err = run_cli("stylize", photo, "--model", model, "--out", tmp_path / "out")
    assert_one_line_error(code, err, "")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("kind", ["missing", "corrupt", "zero_bytes"])
def test_export_bad_checkpoints_fail_cleanly(run_cli, tmp_path, kind):
    checkpoint = tmp_path / "net.npz"
    if kind == "corrupt":
        checkpoint.write_bytes(b"PK\x03\x04 definitely not a zip")
    elif kind == "zero_bytes":
        checkpoint.write_bytes(b"")
    out = tmp_path / "out"
    code, _, err = run_cli("export", checkpoint, "--out", out)
    assert_one_line_error(code, err, "checkpoint")
    assert not out.exists() or list(out.iterdir()) == []


def test_export_needs_a_checkpoint_or_random_weights(run_cli, tmp_path):
    code, _, err = run_cli("export", "--out", tmp_path)
    assert_one_line_error(code, err, "--random-weights")


def test_export_of_an_instance_norm_net_says_how_it_was_kept_inside_fp16(run_cli, tmp_path):
    code, out, _ = run_cli("export", "--random-weights", "--seed", "0", "--arch", "blocks=1,width=0.25,norm=instance",
                           "--fp16", "--out", tmp_path)
    assert code == 0
    assert "instance norms rescaled to stay inside fp16 (same function): conv1_norm x2^-" in out
