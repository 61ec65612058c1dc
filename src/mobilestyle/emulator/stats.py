"""Counters and timings of one emulator run, and the stats file written from them.

Accounting: every camera frame is counted in `frames_in` and ends up either stylized or dropped (a late
frame waiting for the model is neither until the model frees up). When the run ends (the source is
exhausted, `--frames` is reached, or the user quits), capture stops first, a frame still waiting is
dropped and the frame still in the model is waited for, so it is counted as stylized and
`frames_in == frames_stylized + frames_dropped` always holds.

`fps` is stylized frames per second of wall time, from the first frame captured to the last one
stylized. `latency_ms_*` is the model's own time per frame (`runner.run`); `e2e_ms_*` runs from the
moment a frame is captured to the moment its stylized result is shown (or handed to the record and
virtual-camera outputs in headless mode). On the device clock (`device_loop`) every time is device time:
latency is the device's, and `fps` is results per second on that clock.

The HUD's fps is averaged over the last `HUD_FPS_FRAMES` results, however long they took: a model that
needs seconds per frame shows its real rate, not 0.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import numpy as np

from mobilestyle.files import atomic_path
from mobilestyle.emulator.gate import Verdict
from mobilestyle.portable_paths import portable

HUD_FPS_FRAMES = 10


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
        self._finishes: list[float] = []

    @property
    def frames_dropped(self) -> int:
        return self.dropped_busy + self.dropped_pace

    def frame_arrived(self, now: float) -> None:
        with self._lock:
            self.frames_in += 1
            if self.first_capture is None:
                self.first_capture = now

    def frame_dropped(self, verdict: Verdict) -> None:
        with self._lock:
            if verdict is Verdict.DROP_BUSY:
                self.dropped_busy += 1
            elif verdict is Verdict.DROP_PACE:
                self.dropped_pace += 1
            else:
                raise ValueError(f"{verdict} is not a drop")

    def frame_stylized(self, started: float, finished: float) -> None:
        with self._lock:
            self.frames_stylized += 1
            self.latencies.append(finished - started)
            self.last_finish = finished
            self._finishes.append(finished)

    def frame_shown(self, captured: float, shown: float) -> None:
        with self._lock:
            self.frames_shown += 1
            self.end_to_end.append(shown - captured)

    def recent_fps(self, frames: int = HUD_FPS_FRAMES) -> float | None:
        """Stylized frames per second over the last `frames` results (for the HUD); None before the second."""
        with self._lock:
            recent = self._finishes[-frames:]
        if len(recent) < 2:
            return None
        return (len(recent) - 1) / max(recent[-1] - recent[0], 1e-9)

    def recent_latency_ms(self, count: int = 15) -> float | None:
        with self._lock:
            return percentile_ms(self.latencies[-count:], 50)

    def summary(self) -> dict[str, Any]:
        with self._lock:
            known = self.last_finish is not None and self.first_capture is not None
            elapsed = (self.last_finish - self.first_capture) if known else 0.0
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
    """The stats as JSON; a report, so every path in it is made portable (`mobilestyle.portable_paths`)."""
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(portable(stats), indent=2) + "\n")
    return path
