"""Fakes with the runner's and a source's interface, and small generated media, for the emulator's tests."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import cv2
import numpy as np

from mobilestyle import frame
from mobilestyle.errors import UserError

TINY_ARCH = "width=0.25,blocks=1"


class FakeRunner:
    """`ModelRunner`'s interface; `run` sleeps `latency` seconds and records how many calls overlap."""

    def __init__(self, latency: float, backend: str = "fake", input_size=(frame.INPUT_WIDTH, frame.INPUT_HEIGHT),
                 output_size=(frame.OUTPUT_WIDTH, frame.OUTPUT_HEIGHT), fail_after: int | None = None):
        self.latency = latency
        self.backend = backend
        self.input_size, self.output_size = input_size, output_size
        self.model_metadata: dict = {}
        self.fail_after = fail_after
        self.calls: list[tuple[float, float]] = []
        self.inputs_shapes: set[tuple[int, ...]] = set()
        self.max_concurrent = 0
        self._active = 0
        self._lock = threading.Lock()
        self._output = np.full((output_size[1], output_size[0], 3), 127, np.uint8)

    def run(self, rgb: np.ndarray) -> np.ndarray:
        with self._lock:
            self._active += 1
            self.max_concurrent = max(self.max_concurrent, self._active)
            self.inputs_shapes.add(rgb.shape)
        start = time.perf_counter()
        try:
            if self.fail_after is not None and len(self.calls) >= self.fail_after:
                raise RuntimeError("fake model failure")
            time.sleep(self.latency)
            return self._output
        finally:
            with self._lock:
                self._active -= 1
                self.calls.append((start, time.perf_counter()))


class FakeSource:
    """`count` generated 320x180 BGR frames delivered at `fps`, paced by the loop like a video file."""

    realtime = True

    def __init__(self, fps: float, count: int, fail_at: int | None = None):
        self.fps, self.count, self.fail_at = fps, count, fail_at
        self.name = f"fake ({fps:g} fps)"
        self.delivered = 0
        self.closed = False

    def read(self) -> np.ndarray | None:
        if self.fail_at is not None and self.delivered == self.fail_at:
            raise UserError("fake source failure")
        if self.delivered == self.count:
            return None
        self.delivered += 1
        image = np.zeros((180, 320, 3), np.uint8)
        image[:, : self.delivered % 320] = (0, 0, 255)
        return image

    def close(self) -> None:
        self.closed = True


def write_test_video(path: Path, frames: int = 45, fps: float = 30.0, size=(640, 360), fourcc: str = "mp4v") -> Path:
    """A video of a moving, colored disc on a gradient (non-blank in every frame)."""
    width, height = size
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps, (width, height))
    gradient = np.linspace(0, 255, width, dtype=np.uint8)[None, :, None].repeat(height, 0).repeat(3, 2)
    for index in range(frames):
        image = gradient.copy()
        image[..., 0] = ((image[..., 0].astype(np.int32) + 5 * index) % 256).astype(np.uint8)
        cv2.circle(image, (int((index * 11) % width), height // 2), height // 4, (40, 200, 255), -1)
        writer.write(image)
    writer.release()
    return path
