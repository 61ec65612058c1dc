"""Where the stylized stream goes besides the window: an .mp4 recording and a virtual webcam.

On the desktop's clock both run at a steady `FPS_TARGET` frames per second of wall time and repeat the
latest stylized frame when the model is slower, so a recording plays back in real time, as the desktop
showed it, and a video call app sees a steady camera. On the device clock, `TimelineRecording` writes
one frame per camera frame at the source's exact frame rate: the phone's display, frame by frame. Its
frames keep the source's timing, so it also carries a video source's audio; a desktop-clock recording,
whose frames follow the wall clock instead, is silent.
"""

from __future__ import annotations

import contextlib
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

from mobilestyle import frame
from mobilestyle.errors import UserError
from mobilestyle.files import atomic_path

VIRTUAL_CAM_HINT = ("sudo apt-get install v4l2loopback-dkms && sudo modprobe v4l2loopback devices=1 "
                    "exclusive_caps=1 card_label=mobilestyle")


class SteadyClock:
    """Counts the output frames due at a fixed rate since the first one."""

    def __init__(self, fps: float):
        self.interval = 1.0 / fps
        self._next: float | None = None

    def frames_due(self, now: float) -> int:
        if self._next is None:
            self._next = now
        due = 0
        while self._next <= now:
            due += 1
            self._next += self.interval
        return due


def _open_recording(kind, path: Path, resources: contextlib.ExitStack, fps: float, **options):
    """A `kind` recording that lands at `path` when `resources` closes cleanly, and never half-written."""
    path = Path(path)
    if path.suffix.lower() != ".mp4":
        raise UserError(f"--record writes an .mp4 file (got {path.name})")
    recording = kind(resources.enter_context(atomic_path(path)), fps, **options)
    resources.callback(recording.close)
    return recording


class Recording:
    """An .mp4 of the stylized stream; `open` writes it under a temporary name, renamed when the run ends."""

    def __init__(self, path: Path, fps: float = frame.FPS_TARGET):
        self.frames_written = 0
        self._clock = SteadyClock(fps)
        self._writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps,
                                       (frame.OUTPUT_WIDTH, frame.OUTPUT_HEIGHT))
        if not self._writer.isOpened():
            raise UserError(f"OpenCV cannot write an mp4 video to {path}")

    @classmethod
    def open(cls, path: Path, resources: contextlib.ExitStack, fps: float = frame.FPS_TARGET) -> "Recording":
        return _open_recording(cls, path, resources, fps)

    def feed(self, stylized_rgb: np.ndarray, now: float) -> None:
        due = self._clock.frames_due(now)
        if due:
            bgr = cv2.cvtColor(stylized_rgb, cv2.COLOR_RGB2BGR)
            for _ in range(due):
                self._writer.write(bgr)
            self.frames_written += due

    def close(self) -> None:
        self._writer.release()


class TimelineRecording:
    """An H.264 .mp4 with one frame per tick of the device timeline (black before the first result).

    With `audio_source` (the video file the ticks come from), its audio is copied up to the last frame
    written: tick N is the source's frame N, so the sound stays in sync.
    """

    def __init__(self, path: Path, fps: float, audio_source: Path | None = None):
        from mobilestyle.video import AudioCopy, VideoWriter

        self.frames_written = 0
        self.rate = Fraction(fps).limit_denominator(1001)
        self._blank = np.zeros((frame.OUTPUT_HEIGHT, frame.OUTPUT_WIDTH, 3), np.uint8)
        self._audio = AudioCopy(audio_source) if audio_source is not None else None
        try:
            self._writer = VideoWriter(path, (frame.OUTPUT_WIDTH, frame.OUTPUT_HEIGHT), self.rate,
                                       audio_templates=self._audio.streams if self._audio else ())
        except BaseException:
            if self._audio is not None:
                self._audio.close()
            raise

    @classmethod
    def open(cls, path: Path, resources: contextlib.ExitStack, fps: float,
             audio_source: Path | None = None) -> "TimelineRecording":
        return _open_recording(cls, path, resources, fps, audio_source=audio_source)

    @property
    def audio_packets(self) -> int:
        return self._audio.packets_copied if self._audio is not None else 0

    def write(self, stylized_rgb: np.ndarray | None) -> None:
        self._writer.write(self._blank if stylized_rgb is None else stylized_rgb)
        self.frames_written += 1
        if self._audio is not None:
            self._audio.copy_until(self._writer, self.frames_written / self.rate)

    def close(self) -> None:
        try:
            self._writer.close()
        finally:
            if self._audio is not None:
                self._audio.close()


class VirtualCamera:
    """A v4l2loopback webcam (through pyvirtualcam) that video-call apps can pick."""

    def __init__(self, fps: float = frame.FPS_TARGET):
        try:
            import pyvirtualcam
        except ImportError:
            raise UserError("--virtual-cam needs pyvirtualcam: pip install pyvirtualcam==0.15.0") from None
        try:
            self._camera = pyvirtualcam.Camera(width=frame.OUTPUT_WIDTH, height=frame.OUTPUT_HEIGHT, fps=fps,
                                               fmt=pyvirtualcam.PixelFormat.RGB)
        except RuntimeError as exc:
            raise UserError(f"no virtual camera device ({str(exc).splitlines()[0]}); create one with: "
                            f"{VIRTUAL_CAM_HINT}") from None
        self.device = self._camera.device
        self._clock = SteadyClock(fps)

    def feed(self, stylized_rgb: np.ndarray, now: float) -> None:
        if self._clock.frames_due(now):
            self._camera.send(np.ascontiguousarray(stylized_rgb))

    @classmethod
    def open(cls, resources: contextlib.ExitStack, fps: float = frame.FPS_TARGET) -> "VirtualCamera":
        camera = cls(fps)
        resources.callback(camera.close)
        return camera

    def close(self) -> None:
        self._camera.close()
