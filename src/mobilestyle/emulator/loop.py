"""The phone's camera loop on three threads: capture, inference, and whoever displays the results.

- Capture reads the source at its own rate (a file is paced to its fps in real time), counts every
  frame, asks the `CameraQueue` (the app's pacer plus AVFoundation's late-frame slot) whether the
  model may take it, and only then fits it to 853x480: a dropped frame costs nothing but its decode.
- Inference takes one frame at a time, runs the model and publishes the result. When it finishes,
  the newest frame that arrived while it was busy (if the pacer lets it run) is fitted and run at once,
  as AVFoundation hands the late frame over, instead of waiting for the next camera frame.
- The display side (the window, or the headless consumer) polls `latest()` / `wait_for_result()`;
  it always gets the most recent finished frame, however slow or fast the model is.
"""

from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

from mobilestyle.emulator.fitting import fit_camera_frame
from mobilestyle.emulator.gate import Arrival, CameraQueue, FrameGate
from mobilestyle.emulator.models import ModelSlot
from mobilestyle.emulator.sources import FrameSource
from mobilestyle.emulator.stats import LoopStats

clock = time.perf_counter


@dataclass(frozen=True)
class Job:
    index: int
    model_input: np.ndarray
    captured_at: float


@dataclass(frozen=True)
class Result:
    sequence: int
    index: int
    model_input: np.ndarray
    stylized: np.ndarray
    captured_at: float
    started_at: float
    finished_at: float
    model_name: str
    backend: str


class PhoneLoop:
    """Runs `source` through the model in `models` like the phone does; see the module docstring.

    `max_frames` ends the run after that many camera frames; `pace_fps=None` lets the model run as
    often as frames arrive (for throughput measurements).
    """

    def __init__(self, source: FrameSource, models: ModelSlot, pace_fps: float | None,
                 max_frames: int | None = None, stats: LoopStats | None = None,
                 damper: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None):
        self.source = source
        self.damper = damper
        self.models = models
        self.max_frames = max_frames
        self.stats = stats or LoopStats()
        self.queue: CameraQueue[np.ndarray] = CameraQueue(FrameGate(pace_fps), self.stats.frame_dropped)
        self._jobs: queue.Queue[Job | None] = queue.Queue(maxsize=1)
        self._stop = threading.Event()
        self._finished = threading.Event()
        self._result_ready = threading.Condition()
        self._latest: Result | None = None
        self._errors: list[BaseException] = []
        self._threads = [threading.Thread(target=self._guard, args=(self._infer,), name="inference", daemon=True),
                         threading.Thread(target=self._guard, args=(self._capture,), name="capture", daemon=True)]

    def start(self) -> "PhoneLoop":
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        """Stop capturing; the frame in the model (if any) still finishes and is counted."""
        self._stop.set()

    @property
    def finished(self) -> bool:
        """True once capture has ended and the last frame in flight has been stylized."""
        return self._finished.is_set()

    @property
    def failed(self) -> bool:
        """True once capture or inference has hit an error (`join` re-raises it)."""
        return bool(self._errors)

    def latest(self) -> Result | None:
        return self._latest

    def wait_for_result(self, after_sequence: int, timeout: float) -> Result | None:
        """The latest result newer than `after_sequence`, waiting up to `timeout`; None if there is none."""
        with self._result_ready:
            self._result_ready.wait_for(self._has_news(after_sequence), timeout)
            latest = self._latest
        return latest if latest is not None and latest.sequence > after_sequence else None

    def _has_news(self, after_sequence: int):
        return lambda: self._finished.is_set() or (self._latest is not None and self._latest.sequence > after_sequence)

    def join(self, timeout: float | None = None) -> None:
        """Wait for both threads; re-raise the first error either of them hit."""
        for thread in reversed(self._threads):
            thread.join(timeout)
        self.raise_errors()

    def raise_errors(self) -> None:
        if self._errors:
            raise self._errors[0]

    def _guard(self, work) -> None:
        try:
            work()
        except BaseException as exc:
            self._errors.append(exc)
            self._stop.set()
            self._mark_finished()

    def _mark_finished(self) -> None:
        with self._result_ready:
            self._finished.set()
            self._result_ready.notify_all()

    def _capture(self) -> None:
        try:
            self._capture_frames()
        finally:
            self.queue.close()
            self.source.close()
            self._end_jobs()

    def _end_jobs(self) -> None:
        """Tell inference that no more frames come (unless it has already stopped on an error)."""
        while not self._finished.is_set():
            try:
                self._jobs.put(None, timeout=0.1)
                return
            except queue.Full:
                continue

    def _capture_frames(self) -> None:
        start = clock()
        index = 0
        while not self._stop.is_set() and (self.max_frames is None or index < self.max_frames):
            bgr = self.source.read()
            if bgr is None:
                return
            if self.source.realtime:
                due = start + index / self.source.fps
                if self._stop.wait(max(0.0, due - clock())):
                    return
                if clock() - due > 1.0:
                    start = clock() - index / self.source.fps
            now = clock()
            self.stats.frame_arrived(now)
            if self.queue.arrive(Arrival(index, now, bgr)) is not None:
                self._jobs.put(Job(index, fit_camera_frame(bgr), now))
            index += 1

    def _infer(self) -> None:
        sequence = 0
        try:
            while (job := self._jobs.get()) is not None:
                while job is not None:
                    sequence += 1
                    self._run(job, sequence)
                    late = self.queue.model_free()
                    job = None if late is None else Job(late.index, fit_camera_frame(late.frame), late.captured_at)
        finally:
            self._mark_finished()

    def _run(self, job: Job, sequence: int) -> None:
        model = self.models.model
        started = clock()
        stylized = model.runner.run(job.model_input)
        finished = clock()
        if self.damper is not None:
            stylized = self.damper(job.model_input, stylized)
        result = Result(sequence, job.index, job.model_input, stylized, job.captured_at, started, finished,
                        model.name, model.runner.backend)
        self.stats.frame_stylized(started, finished)
        with self._result_ready:
            self._latest = result
            self._result_ready.notify_all()
