"""The phone's admission rule for camera frames, free of threads and clocks so it can be tested exactly.

A frame is run when the model is idle and the pacing schedule is due; otherwise it is dropped, as
AVFoundation does with `alwaysDiscardsLateVideoFrames`. Pacing keeps a grid of start times one
interval apart (so a 30 fps camera paced to 15 fps runs every other frame despite jitter) and restarts
the grid when the model has fallen behind it.
"""

from __future__ import annotations

import enum
import threading


class Verdict(enum.Enum):
    RUN = "run"
    DROP_BUSY = "drop_busy"
    DROP_PACE = "drop_pace"


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
        """Decide for a frame that arrives at `now` (seconds); RUN marks the model busy."""
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
