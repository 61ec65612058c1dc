"""Counters and timings of one emulator run, and the stats file written from them.

Accounting: every camera frame is counted in `frames_in` and ends up either stylized or dropped. When
the run ends (the source is exhausted, `--frames` is reached, or the user quits), capture stops first and
the frame still in the model is waited for, so it is counted as stylized and
`frames_in == frames_stylized + frames_dropped` always holds.

`fps` is stylized frames per second of wall time, from the first frame captured to the last one
stylized. `latency_ms_*` is the model's own time per frame (`runner.run`); `e2e_ms_*` runs from the
moment a frame is captured to the moment its stylized result is shown (or handed to the record and
virtual-camera outputs in headless mode).
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from pathlib import Path
from typing import Any

import numpy as np

from mobilestyle.files import atomic_path
from mobilestyle.emulator.gate import Verdict

RECENT_WINDOW_S = 2.0


def percentile_ms(seconds: list[float], q: float) -> float | None:
    if not seconds:
        return None
    return round(float(np.percentile(np.asarray(seconds) * 1000.0, q)), 2)


class LoopStats:
    """Thread-safe tallies shared by the capture, inference and display threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.frames_in = 0
        self.frames_stylized = 0
        self.dropped_busy = 0
        self.dropped_pace = 0
        self.frames_shown = 0
        self.latencies: list[float] = []
        self.end_to_end: list[float] = []
        self.first_capture: float | None = None
        self.last_finish: float | None = None
        self._recent_finishes: deque[float] = deque()

    @property
    def frames_dropped(self) -> int:
        return self.dropped_busy + self.dropped_pace

    def frame_arrived(self, now: float, verdict: Verdict) -> None:
        with self._lock:
            self.frames_in += 1
            if self.first_capture is None:
                self.first_capture = now
            if verdict is Verdict.DROP_BUSY:
                self.dropped_busy += 1
            elif verdict is Verdict.DROP_PACE:
                self.dropped_pace += 1

    def frame_stylized(self, started: float, finished: float) -> None:
        with self._lock:
            self.frames_stylized += 1
            self.latencies.append(finished - started)
            self.last_finish = finished
            self._recent_finishes.append(finished)
            while self._recent_finishes and self._recent_finishes[0] < finished - RECENT_WINDOW_S:
                self._recent_finishes.popleft()

    def frame_shown(self, captured: float, shown: float) -> None:
        with self._lock:
            self.frames_shown += 1
            self.end_to_end.append(shown - captured)

    def recent_fps(self, now: float | None = None) -> float:
        """Stylized frames per second over the last couple of seconds (for the HUD)."""
        now = time.perf_counter() if now is None else now
        with self._lock:
            recent = [t for t in self._recent_finishes if t >= now - RECENT_WINDOW_S]
        if len(recent) < 2:
            return 0.0
        return (len(recent) - 1) / max(recent[-1] - recent[0], 1e-9)

    def recent_latency_ms(self, count: int = 15) -> float | None:
        with self._lock:
            return percentile_ms(self.latencies[-count:], 50)

    def summary(self) -> dict[str, Any]:
        with self._lock:
            elapsed = (self.last_finish - self.first_capture) if self.last_finish and self.first_capture else 0.0
            return {
                "frames_in": self.frames_in,
                "frames_stylized": self.frames_stylized,
                "frames_dropped": self.frames_dropped,
                "frames_dropped_busy": self.dropped_busy,
                "frames_dropped_pace": self.dropped_pace,
                "frames_shown": self.frames_shown,
                "fps": round(self.frames_stylized / elapsed, 3) if elapsed > 0 else 0.0,
                "elapsed_s": round(elapsed, 3),
                "latency_ms_p50": percentile_ms(self.latencies, 50),
                "latency_ms_p95": percentile_ms(self.latencies, 95),
                "e2e_ms_p50": percentile_ms(self.end_to_end, 50),
                "e2e_ms_p95": percentile_ms(self.end_to_end, 95),
            }


def write_stats(stats: dict[str, Any], path: Path) -> Path:
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(stats, indent=2) + "\n")
    return path
