import cv2
import numpy as np
import pytest

from tests.emulator.fakes import write_test_video
from mobilestyle.emulator.sources import ImageFolderSource, VideoSource, WebcamSource, open_source
from mobilestyle.errors import UserError


def read_all(source) -> list[np.ndarray]:
    frames = []
    while (bgr := source.read()) is not None:
        frames.append(bgr)
    return frames


def test_a_video_plays_all_its_frames_at_its_own_rate(tmp_path):
    source = VideoSource(write_test_video(tmp_path / "v.mp4", frames=20, fps=25))
    assert source.fps == pytest.approx(25) and source.realtime
    frames = read_all(source)
    assert len(frames) == 20 and frames[0].shape == (360, 640, 3)
    source.close()


def test_a_looping_video_starts_over(tmp_path):
    source = VideoSource(write_test_video(tmp_path / "v.mp4", frames=10), loop=True)
    frames = [source.read() for _ in range(25)]
    assert all(f is not None for f in frames)
    np.testing.assert_array_equal(frames[0], frames[10])


def test_a_truncated_video_is_a_user_error(tmp_path):
    whole = write_test_video(tmp_path / "v.avi", frames=60, fourcc="MJPG").read_bytes()
    (tmp_path / "cut.avi").write_bytes(whole[: len(whole) // 2])
    with pytest.raises(UserError, match="truncated"):
        VideoSource(tmp_path / "cut.avi")
    (tmp_path / "cut.mp4").write_bytes(write_test_video(tmp_path / "v.mp4").read_bytes()[:5000])
    with pytest.raises(UserError, match="not a video OpenCV can read"):
        VideoSource(tmp_path / "cut.mp4")


def test_unreadable_or_missing_videos_are_user_errors(tmp_path):
    (tmp_path / "notes.mp4").write_text("not a video")
    with pytest.raises(UserError, match="not a video"):
        VideoSource(tmp_path / "notes.mp4")
    with pytest.raises(UserError, match="does not exist"):
        VideoSource(tmp_path / "missing.mp4")


def test_an_image_folder_plays_its_images_in_name_order(tmp_path):
    for name, value in (("b.png", 200), ("a.png", 100)):
        cv2.imwrite(str(tmp_path / name), np.full((90, 160, 3), value, np.uint8))
    (tmp_path / "readme.txt").write_text("ignored")
    source = ImageFolderSource(tmp_path, fps=12)
    frames = read_all(source)
    assert [int(f[0, 0, 0]) for f in frames] == [100, 200]
    assert source.fps == 12 and source.realtime


def test_an_empty_image_folder_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="has no images"):
        ImageFolderSource(tmp_path, fps=30)


def test_a_missing_webcam_is_a_user_error():
    with pytest.raises(UserError, match="no webcam at index 63"):
        WebcamSource(63)


def test_exactly_one_source_is_required(tmp_path):
    with pytest.raises(UserError, match="exactly one source"):
        open_source(None, None, None, 30, False)
    with pytest.raises(UserError, match="got --webcam, --video"):
        open_source(0, tmp_path / "v.mp4", None, 30, False)
