"""`mobilestyle emulate` end to end, headless, with a tiny exported model run by the real Linux runner."""

import json

import cv2
import numpy as np
import pytest

from tests.cli.conftest import assert_one_line_error, run_cli  # noqa: F401 (run_cli is a fixture)
from tests.emulator.fakes import write_test_video
from tests.media import audio_packets, video_frames, write_clip

STATS_KEYS = ("frames_in", "frames_stylized", "frames_dropped", "fps", "latency_ms_p50", "latency_ms_p95",
              "e2e_ms_p50", "e2e_ms_p95")


def strings_in(value):
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list):
        return [text for item in value for text in strings_in(item)]
    return [value] if isinstance(value, str) else []


def check_stats(path, frames_in: int) -> dict:
    """The stats add up and, being a report, hold no absolute path of this machine."""
    stats = json.loads(path.read_text())
    assert not [text for text in strings_in(stats) if text.startswith("/")]
    for key in STATS_KEYS:
        assert key in stats, key
    assert stats["frames_in"] == frames_in
    assert stats["frames_in"] == stats["frames_stylized"] + stats["frames_dropped"]
    assert stats["frames_stylized"] >= 1 and stats["fps"] > 0
    assert 0 < stats["latency_ms_p50"] <= stats["latency_ms_p95"]
    assert stats["latency_ms_p50"] <= stats["e2e_ms_p50"] <= stats["e2e_ms_p95"]
    return stats


def test_a_video_runs_on_the_phones_clock_by_default_and_two_runs_give_identical_stats(run_cli, tiny_model,
                                                                                       tmp_path):
    from mobilestyle.video import probe

    video = write_test_video(tmp_path / "clip.mp4", frames=45)
    runs = []
    for run in ("a", "b"):
        code, out, err = run_cli("emulate", "--video", video, "--model", tiny_model, "--headless", "--frames", 40,
                                 "--stats", tmp_path / f"{run}.json", "--record", tmp_path / f"{run}.mp4")
        assert code == 0, err
        runs.append(check_stats(tmp_path / f"{run}.json", frames_in=40))
    assert runs[0] == runs[1]
    stats = runs[0]
    assert stats["clock"] == "device" and stats["device"]["name"] == "iphone-xs"
    assert stats["device"]["latency_is_estimate"] and stats["device"]["latency_ms"] < 66.7  # a tiny net
    assert (stats["frames_stylized"], stats["frames_dropped_pace"]) == (20, 20) and stats["fps"] == 15.0
    assert stats["record_frames"] == stats["timeline_frames"] == 40 and stats["frames_blank"] == 1
    recording = probe(tmp_path / "a.mp4")
    assert (recording.frames, recording.rate, recording.width, recording.height) == (40, 30, 1920, 1080)
    frames = video_frames(tmp_path / "a.mp4")
    assert frames[0].max() < 20 and frames[1].std() > 5 and frames[-1].std() > 5
    assert "iphone-xs (A12 Bionic)" in out and "estimate" in out and "desktop:" in out


def test_a_recording_on_the_phones_clock_keeps_the_clips_audio(run_cli, tiny_model, tmp_path):
    from mobilestyle.video import probe

    clip = write_clip(tmp_path / "walk.mp4", frames=12)
    code, out, err = run_cli("emulate", "--video", clip, "--model", tiny_model, "--headless",
                             "--stats", tmp_path / "s.json", "--record", tmp_path / "out.mp4")
    assert code == 0, err
    stats = check_stats(tmp_path / "s.json", frames_in=12)
    assert stats["record_frames"] == 12 and stats["record_audio_packets"] == len(audio_packets(clip)) > 0
    assert probe(tmp_path / "out.mp4").audio == probe(clip).audio == ("aac",)
    assert audio_packets(tmp_path / "out.mp4") == audio_packets(clip)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.mp4", "s.json", "walk.mp4"]


def test_headless_run_on_the_desktop_clock_writes_stats_that_add_up_and_a_recording(run_cli, tiny_model, tmp_path):
    video = write_test_video(tmp_path / "clip.mp4", frames=45)
    code, out, err = run_cli("emulate", "--video", video, "--model", tiny_model, "--headless", "--frames", 40,
                             "--desktop-clock", "--stats", tmp_path / "s.json", "--record", tmp_path / "out.mp4")
    assert code == 0, err
    stats = check_stats(tmp_path / "s.json", frames_in=40)
    assert stats["backend"] in ("openvino", "onnxruntime") and stats["model"] == "tiny"
    assert stats["model_path"] == "tiny.mlmodel"  # the model sits outside the working folder: its name only
    recording = cv2.VideoCapture(str(tmp_path / "out.mp4"))
    ok, first = recording.read()
    assert ok and first.shape == (1080, 1920, 3) and first.std() > 5
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.mp4", "out.mp4", "s.json"]
    assert "clock" not in json.loads((tmp_path / "s.json").read_text())


def test_image_folder_with_the_onnxruntime_backend(run_cli, tiny_model, tmp_path):
    images = tmp_path / "frames"
    images.mkdir()
    for index in range(3):
        cv2.imwrite(str(images / f"{index}.png"), np.full((720, 1280, 3), 60 * index, np.uint8))
    code, out, err = run_cli("emulate", "--images", images, "--fps", 10, "--model", tiny_model, "--headless",
                             "--backend", "onnxruntime", "--stats", tmp_path / "s.json")
    assert code == 0, err
    stats = check_stats(tmp_path / "s.json", frames_in=3)
    assert stats["backend"] == "onnxruntime"


def test_the_acceptance_run_on_the_shared_traffic_video(run_cli, tiny_model, shared_data, tmp_path):
    video = shared_data / "video" / "slow_traffic_small.mp4"
    code, out, err = run_cli("emulate", "--video", video, "--model", tiny_model, "--headless", "--frames", 150,
                             "--stats", tmp_path / "s.json")
    assert code == 0, err
    stats = check_stats(tmp_path / "s.json", frames_in=150)
    assert stats["source_fps"] == pytest.approx(29.97, abs=0.01)
    assert (stats["frames_stylized"], stats["fps"]) == (75, pytest.approx(14.985, abs=0.001))


@pytest.mark.parametrize("case, fragment", [
    ("empty image folder", "has no images"),
    ("no webcam", "no webcam at index 63"),
    ("truncated video", "truncated"),
    ("not a style model", "notes.mlmodel"),
    ("unknown style", "unknown style 'mosaic'"),
    ("two sources", "exactly one source"),
    ("index without webcam", "goes with --webcam"),
    ("unknown device", "unknown device 'iphone-3g'"),
    ("device with webcam", "a webcam runs live"),
    ("device with desktop clock", "drop --device"),
    ("damper out of range", "--damper must be in (0, 1]"),
])
def test_bad_input_is_one_line_and_exit_2(run_cli, tiny_model, tmp_path, monkeypatch, case, fragment):
    monkeypatch.setenv("MOBILESTYLE_CACHE", str(tmp_path / "cache"))
    whole = write_test_video(tmp_path / "v.avi", frames=60, fourcc="MJPG").read_bytes()
    (tmp_path / "cut.avi").write_bytes(whole[: len(whole) // 2])
    (tmp_path / "empty").mkdir()
    (tmp_path / "notes.mlmodel").write_text("these are notes, not a model")
    model = ["--model", tiny_model]
    args = {
        "empty image folder": ["--images", tmp_path / "empty", *model],
        "no webcam": ["--webcam", "63", *model],
        "truncated video": ["--video", tmp_path / "cut.avi", *model],
        "not a style model": ["--video", tmp_path / "v.avi", "--model", tmp_path / "notes.mlmodel"],
        "unknown style": ["--video", tmp_path / "v.avi", "--style", "mosaic"],
        "two sources": ["--video", tmp_path / "v.avi", "--images", tmp_path / "empty", *model],
        "index without webcam": ["3", "--video", tmp_path / "v.avi", *model],
        "unknown device": ["--video", tmp_path / "v.avi", *model, "--device", "iphone-3g"],
        "device with webcam": ["--webcam", *model, "--device", "iphone-12"],
        "device with desktop clock": ["--video", tmp_path / "v.avi", *model, "--device-latency-ms", "40",
                                      "--desktop-clock"],
        "damper out of range": ["--video", tmp_path / "v.avi", *model, "--damper", "1.5"],
    }[case]
    code, out, err = run_cli("emulate", *args, "--headless")
    assert code == 2
    assert_one_line_error(code, err, fragment)
