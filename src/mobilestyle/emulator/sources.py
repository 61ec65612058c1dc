"""Camera stand-ins: a webcam, a video file played in real time, or a folder of images played as frames.

Every source hands out BGR uint8 frames (OpenCV's order) and says whether the capture loop must pace it
(`realtime`: files are read as fast as they decode, so the loop waits for each frame's time) or whether
the device paces itself (a webcam's `read` blocks until the next frame).
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Iterator, Protocol

import cv2
import numpy as np

from mobilestyle.errors import UserError
from mobilestyle.images import list_images, load_rgb

DEFAULT_WEBCAM_FPS = 30.0
WEBCAM_SIZE = (1920, 1080)


class FrameSource(Protocol):
    name: str
    fps: float
    realtime: bool

    def read(self) -> np.ndarray | None:
        """The next BGR frame, or None when the source has ended."""

    def close(self) -> None: ...


@contextlib.contextmanager
def quiet_opencv() -> Iterator[None]:
    """OpenCV logs its own errors for a missing camera or file; ours is the one-line UserError."""
    previous = cv2.utils.logging.getLogLevel()
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)
    try:
        yield
    finally:
        cv2.utils.logging.setLogLevel(previous)


class WebcamSource:
    realtime = False

    def __init__(self, index: int):
        with quiet_opencv():
            capture = cv2.VideoCapture(index)
            if not capture.isOpened():
                raise UserError(f"no webcam at index {index} (is a camera connected and free? try --webcam 1)")
            capture.set(cv2.CAP_PROP_FOURCC, cv2.VideoWriter_fourcc(*"MJPG"))
            capture.set(cv2.CAP_PROP_FRAME_WIDTH, WEBCAM_SIZE[0])
            capture.set(cv2.CAP_PROP_FRAME_HEIGHT, WEBCAM_SIZE[1])
            ok, first = capture.read()
        if not ok:
            capture.release()
            raise UserError(f"webcam {index} opened but delivers no frames")
        self._capture = capture
        self._first: np.ndarray | None = first
        fps = capture.get(cv2.CAP_PROP_FPS)
        self.fps = fps if 1 <= fps <= 240 else DEFAULT_WEBCAM_FPS
        self.name = f"webcam {index} ({first.shape[1]}x{first.shape[0]})"

    def read(self) -> np.ndarray | None:
        if self._first is not None:
            first, self._first = self._first, None
            return first
        ok, bgr = self._capture.read()
        if not ok:
            raise UserError("the webcam stopped delivering frames")
        return bgr

    def close(self) -> None:
        self._capture.release()


class VideoSource:
    """A video file played at its own frame rate; `loop` starts it over at the end."""

    realtime = True

    def __init__(self, path: Path, loop: bool = False):
        path = Path(path)
        if not path.is_file():
            raise UserError(f"video {path} does not exist")
        with quiet_opencv():
            capture = cv2.VideoCapture(str(path))
            if not capture.isOpened():
                raise UserError(f"{path} is not a video OpenCV can read (unknown format, or damaged/truncated)")
            frame_count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
            fps = capture.get(cv2.CAP_PROP_FPS)
            last_ok = frame_count <= 0 or self._can_read_frame(capture, frame_count - 1)
            capture.set(cv2.CAP_PROP_POS_FRAMES, 0)
            ok, first = capture.read()
        if not ok:
            capture.release()
            raise UserError(f"video {path} has no readable frame")
        if not last_ok:
            capture.release()
            raise UserError(f"video {path} is truncated: it declares {frame_count} frames but the last cannot be read")
        self._capture, self.path, self._loop = capture, path, loop
        self._first: np.ndarray | None = first
        self.frame_count = frame_count
        self.frames_read = 0
        self.fps = fps if 1 <= fps <= 240 else DEFAULT_WEBCAM_FPS
        self.name = f"{path.name} ({first.shape[1]}x{first.shape[0]}, {self.fps:.2f} fps)"

    @staticmethod
    def _can_read_frame(capture: cv2.VideoCapture, index: int) -> bool:
        return capture.set(cv2.CAP_PROP_POS_FRAMES, index) and capture.read()[0]

    def read(self) -> np.ndarray | None:
        if self._first is not None:
            bgr, self._first = self._first, None
        else:
            ok, bgr = self._capture.read()
            if not ok:
                self._check_complete()
                if not self._loop:
                    return None
                self._capture.set(cv2.CAP_PROP_POS_FRAMES, 0)
                ok, bgr = self._capture.read()
                self.frames_read = 0
                if not ok:
                    return None
        self.frames_read += 1
        return bgr

    def _check_complete(self) -> None:
        missing = self.frame_count - self.frames_read
        if missing > max(2, self.frame_count // 100):
            raise UserError(f"video {self.path} is damaged: frame {self.frames_read + 1} of "
                            f"{self.frame_count} cannot be read")

    def close(self) -> None:
        self._capture.release()


class ImageFolderSource:
    """The images of a folder, in name order, played as camera frames at `fps`; `loop` repeats them."""

    realtime = True

    def __init__(self, directory: Path, fps: float, loop: bool = False):
        paths = list_images(directory)
        if not paths:
            raise UserError(f"folder {directory} has no images (looked for .jpg, .png, .bmp, .tif, .webp, ...)")
        if fps <= 0:
            raise UserError("--fps must be positive")
        self._paths, self._loop, self._next = paths, loop, 0
        self.frame_count = len(paths)
        self.fps = fps
        self.name = f"{Path(directory).name}/ ({len(paths)} images at {fps:g} fps)"

    def read(self) -> np.ndarray | None:
        if self._next == len(self._paths):
            if not self._loop:
                return None
            self._next = 0
        path = self._paths[self._next]
        self._next += 1
        return cv2.cvtColor(load_rgb(path), cv2.COLOR_RGB2BGR)

    def close(self) -> None:
        pass


def open_source(webcam: int | None, video: Path | None, images: Path | None,
                fps: float, loop: bool) -> FrameSource:
    """The one source the command line asked for."""
    chosen = [name for name, value in (("--webcam", webcam), ("--video", video), ("--images", images))
              if value is not None]
    if len(chosen) != 1:
        raise UserError("give exactly one source: --webcam [INDEX], --video FILE or --images DIR"
                        + (f" (got {', '.join(chosen)})" if chosen else ""))
    if webcam is not None:
        return WebcamSource(webcam)
    if video is not None:
        return VideoSource(video, loop)
    return ImageFolderSource(images, fps, loop)
