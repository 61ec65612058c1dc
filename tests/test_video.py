"""`mobilestyle.video`: whole clips in and out, every frame, audio packets copied unchanged, nothing half-written."""

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from mobilestyle.errors import UserError
from mobilestyle.video import VideoWriter, probe, stylize_video, video_destinations
from tests.media import audio_packets, clip_frame, video_frames, write_clip


def invert(rgb: np.ndarray) -> np.ndarray:
    return 255 - rgb


def test_every_frame_is_stylized_at_the_source_rate_and_the_audio_is_copied_unchanged(tmp_path):
    clip = write_clip(tmp_path / "clip.mp4", frames=15)
    progress = []
    result = stylize_video(clip, tmp_path / "out.mp4", invert, lambda done, total: progress.append((done, total)))
    assert progress == [(index, 15) for index in range(1, 16)]
    source, out = probe(clip), probe(tmp_path / "out.mp4")
    assert (out.frames, out.rate, out.audio) == (15, Fraction(30000, 1001), ("aac",))
    assert result.frames == 15 and result.audio_packets == len(audio_packets(clip)) > 0
    assert audio_packets(tmp_path / "out.mp4") == audio_packets(clip)
    with av.open(str(clip)) as a, av.open(str(tmp_path / "out.mp4")) as b:
        assert [f.pts for f in a.decode(video=0)] == [f.pts for f in b.decode(video=0)]
    frames = video_frames(tmp_path / "out.mp4")
    assert len(frames) == 15
    for index in (0, 7, 14):
        expected = invert(clip_frame(index, 160, 90)).astype(int)
        assert np.abs(frames[index].astype(int) - expected).mean() < 12, index
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.mp4", "out.mp4"]
    assert source.name.endswith("15 frames, audio aac)")


def test_a_clip_without_sound_gives_a_video_without_sound(tmp_path):
    clip = write_clip(tmp_path / "silent.mp4", frames=5, rate=Fraction(25), audio=False)
    result = stylize_video(clip, tmp_path / "out.mp4", invert)
    out = probe(tmp_path / "out.mp4")
    assert (result.frames, out.frames, out.rate, out.audio) == (5, 5, Fraction(25), ())


def test_a_truncated_clip_is_a_one_line_error_and_leaves_nothing(tmp_path):
    whole = write_clip(tmp_path / "whole.mp4", frames=30, faststart=True).read_bytes()
    (tmp_path / "cut.mp4").write_bytes(whole[: len(whole) * 2 // 3])
    with pytest.raises(UserError, match="truncated: it declares 30 frames"):
        stylize_video(tmp_path / "cut.mp4", tmp_path / "out.mp4", invert)
    (tmp_path / "cut_end.mp4").write_bytes(whole[: len(whole) // 3])
    with pytest.raises(UserError, match="cut_end.mp4"):
        stylize_video(tmp_path / "cut_end.mp4", tmp_path / "out.mp4", invert)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cut.mp4", "cut_end.mp4", "whole.mp4"]


def test_unreadable_files_files_without_video_and_failures_midway_leave_nothing(tmp_path):
    (tmp_path / "notes.mp4").write_text("not a video")
    with pytest.raises(UserError, match="not a video FFmpeg can read"):
        stylize_video(tmp_path / "notes.mp4", tmp_path / "out.mp4", invert)
    with pytest.raises(UserError, match="does not exist"):
        stylize_video(tmp_path / "missing.mp4", tmp_path / "out.mp4", invert)
    with av.open(str(tmp_path / "sound.mp4"), mode="w", format="mp4") as container:
        stream = container.add_stream("aac", rate=44100, layout="mono")
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
        frame.sample_rate, frame.pts = 44100, 0
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            container.mux(packet)
    with pytest.raises(UserError, match="has no video stream"):
        stylize_video(tmp_path / "sound.mp4", tmp_path / "out.mp4", invert)

    clip = write_clip(tmp_path / "clip.mp4", frames=10)
    calls = []

    def failing(rgb):
        calls.append(1)
        if len(calls) == 6:
            raise RuntimeError("model crashed")
        return rgb

    with pytest.raises(RuntimeError, match="model crashed"):
        stylize_video(clip, tmp_path / "out.mp4", failing)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.mp4", "notes.mp4", "sound.mp4"]


def test_an_unwritable_output_is_a_one_line_error(tmp_path):
    clip = write_clip(tmp_path / "clip.mp4", frames=3)
    (tmp_path / "a_file").write_text("")
    with pytest.raises(UserError, match="cannot create output folder"):
        stylize_video(clip, tmp_path / "a_file" / "out.mp4", invert)
    with pytest.raises(UserError, match="written as an .mp4"):
        stylize_video(clip, tmp_path / "out.avi", invert)


def test_destinations_one_file_for_one_clip_or_a_folder():
    assert video_destinations(["a/x.mov"], "o.mp4") == [(Path("a/x.mov"), Path("o.mp4"))]
    assert [str(dst) for _, dst in video_destinations(["a/x.mov", "b/y.mp4"], "out")] == ["out/x.mp4", "out/y.mp4"]
    with pytest.raises(UserError, match="names one video"):
        video_destinations(["x.mp4", "y.mp4"], "o.mp4")
    with pytest.raises(UserError, match="same file: x.mp4"):
        video_destinations(["a/x.mp4", "b/x.mp4"], "out")


def test_the_writer_keeps_an_exact_rational_rate(tmp_path):
    writer = VideoWriter(tmp_path / "r.mp4", (64, 36), Fraction(30000, 1001))
    for index in range(4):
        writer.write(np.full((36, 64, 3), 60 * index, np.uint8))
    writer.close()
    info = probe(tmp_path / "r.mp4")
    assert (info.frames, info.rate) == (4, Fraction(30000, 1001))
