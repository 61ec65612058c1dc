import json
import shutil

import pytest
from PIL import Image

from mobilestyle.networks.arch import ArchSpec
from mobilestyle.networks.checkpoint import random_checkpoint, save_checkpoint
from tests.cli.conftest import assert_one_line_error
from tests.conftest import REPO_ROOT
from tests.models.test_shipped_styles import absolute_paths


@pytest.fixture
def style_folder(tmp_path, monkeypatch):
    folder = tmp_path / "models"
    folder.mkdir()
    save_checkpoint(random_checkpoint(ArchSpec.parse("blocks=1,width=0.25"), 0, {"style": "tiny"}),
                    folder / "tiny.npz", fp16=True)
    (folder / "tiny.json").write_text(json.dumps({"source_painting": "a test pattern", "licence": "CC0",
                                                  "quality": {"psnr_db": 27.5, "ssim": 0.8}}))
    monkeypatch.setenv("MOBILESTYLE_MODELS", str(folder))
    monkeypatch.setenv("MOBILESTYLE_CACHE", str(tmp_path / "cache"))
    return folder


def test_build_writes_model_contract_sample_and_report(run_cli, style_folder, tmp_path):
    out = tmp_path / "out"
    sample = tmp_path / "photos" / "sample.png"
    sample.parent.mkdir()
    Image.new("RGB", (320, 180), (90, 140, 200)).save(sample)
    code, _, err = run_cli("build", "--style", "tiny", "--out", out, "--sample", sample)
    assert code == 0, err
    assert sorted(p.name for p in out.iterdir()) == [
        "tiny.contract.json", "tiny.mlmodel", "tiny.report.json", "tiny.sample.png"]
    report = json.loads((out / "tiny.report.json").read_text())
    # The style's checkpoint and the sample photo were absolute paths outside the working folder.
    assert absolute_paths(report) == []
    assert report["checkpoint"] == "tiny.npz" and report["sample_input"] == "sample.png"
    assert report["parity_max_abs_error"] <= 1.0
    assert report["quality_vs_teacher"]["psnr_db"] == 27.5
    assert report["file_bytes"] == (out / "tiny.mlmodel").stat().st_size
    with Image.open(out / "tiny.sample.png") as sample:
        assert sample.size == (1920, 1080)


def test_build_copies_into_the_ios_app(run_cli, style_folder, tmp_path):
    app_copy = tmp_path / "ios_app"
    shutil.copytree(REPO_ROOT / "ios_app", app_copy, ignore=shutil.ignore_patterns("*.mlmodel", ".build"))
    code, _, err = run_cli("build", "--style", "tiny", "--out", tmp_path / "out", "--ios-app", app_copy)
    assert code == 0, err
    models = app_copy / "StyleCam" / "Models"
    assert (models / "tiny.mlmodel").is_file() and (models / "tiny.contract.json").is_file()


def test_unknown_style_lists_the_known_ones(run_cli, style_folder, tmp_path):
    code, _, err = run_cli("build", "--style", "nope", "--out", tmp_path / "out")
    assert_one_line_error(code, err, "known styles: tiny")
    assert not (tmp_path / "out").exists()


def test_wrong_app_folder_fails_before_writing(run_cli, style_folder, tmp_path):
    code, _, err = run_cli("build", "--style", "tiny", "--out", tmp_path / "out", "--ios-app", tmp_path)
    assert_one_line_error(code, err, "not the StyleCam app folder")
    assert not (tmp_path / "out").exists()


def test_styles_lists_the_shipped_styles(run_cli, style_folder):
    code, out, _ = run_cli("styles")
    assert code == 0 and "tiny" in out and "PSNR 27.50 dB" in out


def test_build_trains_an_unknown_style_from_a_painting_and_caches_it(run_cli, style_folder, tmp_path):
    from tests.training.synthetic import write_painting, write_photos, write_vgg_npz

    photos = write_photos(tmp_path / "photos", count=2, size=(264, 264))
    painting = write_painting(tmp_path / "painting.png")
    vgg = write_vgg_npz(tmp_path / "vgg.npz")
    code, _, err = run_cli("build", "--style", "mine", "--out", tmp_path / "out", "--style-image", painting,
                           "--content-dir", photos, "--vgg-weights", vgg, "--steps", 1)
    assert code == 0, err
    assert (tmp_path / "cache" / "styles" / "mine.npz").is_file()
    assert (tmp_path / "out" / "mine.mlmodel").is_file()
    code, out, _ = run_cli("styles")
    assert "mine" in out and "cache" in out
