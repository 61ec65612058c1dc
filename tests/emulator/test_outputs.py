import contextlib
from fractions import Fraction

import cv2
import numpy as np
import pytest

from mobilestyle.emulator.outputs import Recording, SteadyClock, TimelineRecording, VirtualCamera
from mobilestyle.errors import UserError
from mobilestyle.video import probe
from tests.media import SAMPLE_RATE, audio_packets, write_clip


def test_the_steady_clock_counts_the_frames_due_at_a_fixed_rate():
    clock = SteadyClock(fps=10)
    assert [clock.frames_due(t) for t in (5.0, 5.05, 5.1, 5.45, 5.46)] == [1, 0, 1, 3, 0]


def test_a_recording_plays_in_real_time_and_lands_only_when_complete(tmp_path):
    path = tmp_path / "out.mp4"
    frame = np.zeros((1080, 1920, 3), np.uint8)
    frame[:, :960] = (255, 0, 0)
    with contextlib.ExitStack() as resources:
        recording = Recording.open(path, resources, fps=15)
        for t in (0.0, 0.2, 0.4):
            recording.feed(frame, 100 + t)
        assert not path.exists()
    assert recording.frames_written == 7
    video = cv2.VideoCapture(str(path))
    ok, first = video.read()
    assert ok and first.shape == (1080, 1920, 3) and first[540, 100, 2] > 200 and first[540, 1800, 2] < 50
    assert int(video.get(cv2.CAP_PROP_FRAME_COUNT)) == 7
    assert [p.name for p in tmp_path.iterdir()] == ["out.mp4"]


def test_a_timeline_recording_that_stops_early_keeps_the_audio_up_to_its_last_frame(tmp_path):
    clip = write_clip(tmp_path / "walk.mp4", frames=12, rate=Fraction(25))
    path = tmp_path / "out.mp4"
    with contextlib.ExitStack() as resources:
        recording = TimelineRecording.open(path, resources, fps=25, audio_source=clip)
        for _ in range(5):
            recording.write(None)
    end_in_samples = 5 * SAMPLE_RATE / 25
    expected = [packet for packet in audio_packets(clip) if packet[0] < end_in_samples]
    assert 0 < len(expected) < len(audio_packets(clip))
    assert audio_packets(path) == expected and recording.audio_packets == len(expected)
    assert (probe(path).frames, probe(path).audio) == (5, ("aac",))


def test_a_timeline_recording_without_an_audio_source_is_silent(tmp_path):
    path = tmp_path / "out.mp4"
    with contextlib.ExitStack() as resources:
        TimelineRecording.open(path, resources, fps=25).write(None)
    assert probe(path).audio == ()


def test_a_failed_run_leaves_no_recording(tmp_path):
    with pytest.raises(RuntimeError), contextlib.ExitStack() as resources:
        recording = Recording.open(tmp_path / "out.mp4", resources)
        recording.feed(np.zeros((1080, 1920, 3), np.uint8), 0.0)
        raise RuntimeError("model crashed")
    assert list(tmp_path.iterdir()) == []


def test_recording_needs_an_mp4_name(tmp_path):
    with pytest.raises(UserError, match="writes an .mp4"), contextlib.ExitStack() as resources:
        Recording.open(tmp_path / "out.avi", resources)


def test_without_a_loopback_device_the_virtual_camera_says_how_to_create_one():
    pytest.importorskip("pyvirtualcam")
    if list(__import__("pathlib").Path("/dev").glob("video*")):
        pytest.skip("this machine has video devices; the message is for machines without one")
    with pytest.raises(UserError, match="modprobe v4l2loopback"):
        VirtualCamera()
