"""The phone's admission rule for camera frames, free of threads and clocks so it can be tested exactly.

`FrameGate` is the app's pacer (`StyleCamCore.FramePacer`): a frame is run when the model is idle and the
pacing schedule is due, otherwise it is dropped. Pacing keeps a grid of start times one interval apart
(so a 30 fps camera paced to 15 fps runs every other frame despite jitter) and restarts the grid when
the model has fallen behind it.

`CameraQueue` adds what AVFoundation does with `alwaysDiscardsLateVideoFrames`: while the model is busy
the newest camera frame waits (an older waiting one is discarded), and the moment the model frees up
that late frame is handed over at once instead of the loop waiting for the next camera frame. For a
model slower than the camera interval this saves half a camera interval per frame on average.
"""

from __future__ import annotations

import enum
import threading
from dataclasses import dataclass
from typing import Callable, Generic, TypeVar

T = TypeVar("T")


class Verdict(enum.Enum):
    RUN = "run"
    DROP_BUSY = "drop_busy"
    DROP_PACE = "drop_pace"
    WAIT = "wait"


class FrameGate:
    """Admits at most one frame in flight, and starts at most one frame per `1 / pace_fps` seconds.

    `pace_fps=None` turns pacing off. `jitter` (a fraction of the interval) lets a frame that arrives
    slightly before its slot on the grid run.
    """

    def __init__(self, pace_fps: float | None, jitter: float = 0.25):
        if pace_fps is not None and pace_fps <= 0:
            raise ValueError("pace_fps must be positive")
        self.interval = 0.0 if pace_fps is None else 1.0 / pace_fps
        self.tolerance = self.interval * jitter
        self._busy = False
        self._next_due: float | None = None
        self._lock = threading.Lock()

    @property
    def busy(self) -> bool:
        return self._busy

    def offer(self, now: float) -> Verdict:
        """Decide for a frame captured at `now` (seconds); RUN marks the model busy."""
        with self._lock:
            if self._busy:
                return Verdict.DROP_BUSY
            if self._next_due is not None and now < self._next_due - self.tolerance:
                return Verdict.DROP_PACE
            on_grid = self._next_due is not None and now < self._next_due + self.interval
            self._next_due = (self._next_due if on_grid else now) + self.interval
            self._busy = True
            return Verdict.RUN

    def release(self) -> None:
        """The model has finished its frame and is idle again."""
        with self._lock:
            self._busy = False


@dataclass(frozen=True)
class Arrival(Generic[T]):
    """A camera frame: its index in the source, its capture time, and what the loop needs to run it."""

    index: int
    captured_at: float
    frame: T


class CameraQueue(Generic[T]):
    """`FrameGate` plus AVFoundation's late-frame slot.

    Every frame given to `arrive` ends up exactly once as run (returned by `arrive` or `model_free`),
    or dropped: `on_drop(Verdict.DROP_PACE)` for pacing, `on_drop(Verdict.DROP_BUSY)` when a newer late
    frame displaces it or it is still waiting at `close`. `hand_over_late=False` is the old rule: a frame
    that arrives while the model is busy is dropped at once.
    """

    def __init__(self, gate: FrameGate, on_drop: Callable[[Verdict], None] = lambda verdict: None,
                 hand_over_late: bool = True):
        self.gate = gate
        self.hand_over_late = hand_over_late
        self._on_drop = on_drop
        self._waiting: Arrival[T] | None = None
        self._closed = False
        self._lock = threading.Lock()

    @property
    def waiting(self) -> Arrival[T] | None:
        return self._waiting

    def arrive(self, arrival: Arrival[T]) -> Arrival[T] | None:
        """The frame to run now (the model is marked busy), or None: dropped, or waiting for the model."""
        with self._lock:
            verdict = self.gate.offer(arrival.captured_at)
            if verdict is Verdict.RUN:
                return arrival
            if verdict is Verdict.DROP_PACE:
                self._on_drop(Verdict.DROP_PACE)
            elif self.hand_over_late and not self._closed:
                if self._waiting is not None:
                    self._on_drop(Verdict.DROP_BUSY)
                self._waiting = arrival
            else:
                self._on_drop(Verdict.DROP_BUSY)
            return None

    def model_free(self) -> Arrival[T] | None:
        """The model has finished: the late frame to run at once (the model stays busy), or None (idle)."""
        with self._lock:
            self.gate.release()
            waiting, self._waiting = self._waiting, None
            if waiting is None:
                return None
            if self.gate.offer(waiting.captured_at) is Verdict.RUN:
                return waiting
            self._on_drop(Verdict.DROP_PACE)
            return None

    def close(self) -> None:
        """Capture has ended: a frame still waiting for the model is dropped, and later ones too."""
        with self._lock:
            self._closed = True
            if self._waiting is not None:
                self._waiting = None
                self._on_drop(Verdict.DROP_BUSY)
