"""`mobilestyle stylize CLIP.mp4`: every frame through an exported model, at 1920x1080, the sound kept."""

import json

import pytest

from mobilestyle.export.coreml import export_coreml
from mobilestyle.networks.arch import ArchSpec
from mobilestyle.networks.checkpoint import random_checkpoint, save_checkpoint
from mobilestyle.video import probe
from tests.cli.conftest import assert_one_line_error
from tests.media import audio_packets, video_frames, write_clip

TINY_ARCH = "blocks=1,width=0.25"


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    out = tmp_path_factory.mktemp("model")
    return export_coreml(random_checkpoint(ArchSpec.parse(TINY_ARCH), 0), out, "tiny").model_path


def test_a_clip_with_sound_gives_an_mp4_with_every_frame_and_the_same_audio(run_cli, tiny_model, tmp_path):
    clip = write_clip(tmp_path / "clip.mp4", frames=8)
    code, out, err = run_cli("stylize", clip, "--model", tiny_model, "--out", tmp_path / "styled.mp4")
    assert code == 0, err
    info = probe(tmp_path / "styled.mp4")
    assert (info.width, info.height, info.frames, info.rate) == (1920, 1080, 8, probe(clip).rate)
    assert audio_packets(tmp_path / "styled.mp4") == audio_packets(clip)
    assert all(frame.std() > 3 for frame in video_frames(tmp_path / "styled.mp4"))
    # one line however long the path (rich would wrap it at the terminal's width, and did on an 80-column CI)
    assert f"wrote {tmp_path / 'styled.mp4'} (8 frames at 29.97 fps, " in out.splitlines()[-1]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.mp4", "styled.mp4"]


def test_a_named_style_and_an_output_folder(run_cli, tmp_path, monkeypatch):
    folder = tmp_path / "models"
    folder.mkdir()
    save_checkpoint(random_checkpoint(ArchSpec.parse(TINY_ARCH), 1, {"style": "tiny"}), folder / "tiny.npz",
                    fp16=True)
    (folder / "tiny.json").write_text(json.dumps({"source_painting": "a test pattern"}))
    monkeypatch.setenv("MOBILESTYLE_MODELS", str(folder))
    monkeypatch.setenv("MOBILESTYLE_CACHE", str(tmp_path / "cache"))
    clip = write_clip(tmp_path / "walk.mp4", frames=3, audio=False)
    code, out, err = run_cli("stylize", clip, "--style", "tiny", "--out", tmp_path / "out")
    assert code == 0, err
    assert probe(tmp_path / "out" / "walk.mp4").frames == 3


@pytest.mark.parametrize("case, fragment", [
    ("truncated", "truncated"),
    ("not a video", "not a video FFmpeg can read"),
    ("photos and clips", "not both"),
    ("model and style", "--style NAME"),
    ("unwritable", "cannot create output folder"),
])
def test_bad_input_is_one_line_and_writes_nothing(run_cli, tiny_model, tmp_path, case, fragment):
    whole = write_clip(tmp_path / "whole.mp4", frames=30, faststart=True).read_bytes()
    (tmp_path / "cut.mp4").write_bytes(whole[: len(whole) * 2 // 3])
    (tmp_path / "notes.mp4").write_text("not a video")
    (tmp_path / "photo.png").write_bytes(b"")
    (tmp_path / "a_file").write_text("")
    model = ["--model", tiny_model]
    args = {
        "truncated": [tmp_path / "cut.mp4", *model, "--out", tmp_path / "o.mp4"],
        "not a video": [tmp_path / "notes.mp4", *model, "--out", tmp_path / "o.mp4"],
        "photos and clips": [tmp_path / "whole.mp4", tmp_path / "photo.png", *model],
        "model and style": [tmp_path / "whole.mp4", *model, "--style", "muse", "--out", tmp_path / "o.mp4"],
        "unwritable": [tmp_path / "whole.mp4", *model, "--out", tmp_path / "a_file" / "o.mp4"],
    }[case]
    before = sorted(tmp_path.rglob("*"))
    code, out, err = run_cli("stylize", *args)
    assert_one_line_error(code, err, fragment)
    assert sorted(tmp_path.rglob("*")) == before
