"""The phone's camera loop on the phone's clock: what the iPhone would show, computed at the desktop's pace.

Camera frame i arrives at device time i / fps. Frames are admitted by the live loop's rule
(`gate.CameraQueue`: the app's pacer, one frame in flight, AVFoundation's late frame handed over the
moment the model frees up), and each inference takes the device's latency (`device.DeviceTiming`),
however long the desktop needs for it: the desktop computes every frame the phone would compute, one
after the other, on one thread. The display is sampled once per camera frame: timeline frame i shows
the newest result finished by device time i / fps, or nothing (black) before the first one.

Nothing here reads the desktop's clock except to report how long the desktop took, so the same input
gives the same drops, the same timeline and the same stats, run after run. Device time is kept in whole
microseconds, so that a run ending exactly when a camera frame arrives is a tie decided by rule (the
model frees up first), not by floating-point rounding.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Callable, Iterator

import numpy as np

from mobilestyle.emulator.device import DeviceTiming
from mobilestyle.emulator.fitting import fit_camera_frame
from mobilestyle.emulator.gate import Arrival, CameraQueue, FrameGate, Verdict
from mobilestyle.emulator.loop import Result
from mobilestyle.emulator.models import LoadedModel, ModelSlot
from mobilestyle.emulator.sources import FrameSource
from mobilestyle.emulator.stats import LoopStats, percentile_ms

US = 1_000_000
APP_PACE_TOLERANCE = 0.1
"""The app's pacer lets a frame run up to 10% of an interval early (`FramePacer` toleranceFraction); the live
loop allows 25% for the desktop's timing jitter, which the device clock does not have."""
PHONE_FPS_WINDOW_S = 1.0
PHONE_LATENCY_SAMPLES = 30


@dataclass(frozen=True)
class Tick:
    """One frame of the phone's display timeline (one per camera frame)."""

    index: int
    time: float
    camera_bgr: np.ndarray
    result: Result | None
    fresh: bool
    """True at the first tick that shows `result`."""


def phone_hud_line(display_times: list[float], latencies: list[float], dropped: int, offered: int) -> str:
    """The app's HUD line (`StyleCamCore.HUDText`): fps shown over the last second, mean and worst latency of
    the last 30 frames, dropped of offered frames."""
    fps = None
    if display_times:
        recent = [t for t in display_times if t >= display_times[-1] - PHONE_FPS_WINDOW_S]
        if len(recent) >= 2 and recent[-1] > recent[0]:
            fps = (len(recent) - 1) / (recent[-1] - recent[0])
    window = latencies[-PHONE_LATENCY_SAMPLES:]
    fps_text = "-- fps" if fps is None else f"{fps:.1f} fps"
    mean = f"{1000 * sum(window) / len(window):.0f} ms" if window else "-- ms"
    worst = f"max {1000 * max(window):.0f} ms" if window else "max -- ms"
    return f"{fps_text} | {mean} ({worst}) | dropped {dropped}/{offered}"


class DeviceLoop:
    """Runs `source` through the model in `models` on the device clock; iterate `ticks()` to drive it.

    `timing_for(model)` gives the device latency of a model (the window may switch models).
    """

    def __init__(self, source: FrameSource, models: ModelSlot, timing_for: Callable[[LoadedModel], DeviceTiming],
                 pace_fps: float | None, max_frames: int | None = None, stats: LoopStats | None = None,
                 damper: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None):
        self.source = source
        self.damper = damper
        self.models = models
        self.timing_for = timing_for
        self.max_frames = max_frames
        self.stats = stats or LoopStats()
        self.queue: CameraQueue[np.ndarray] = CameraQueue(FrameGate(pace_fps, APP_PACE_TOLERANCE),
                                                          self.stats.frame_dropped)
        self.timing: DeviceTiming | None = None
        self.desktop_seconds = 0.0
        """Desktop time spent in the model (reported, never used: it is not deterministic)."""
        self.ticks_done = 0
        self.blank_ticks = 0
        self.display_times: list[float] = []
        self._latencies: list[float] = []
        self._running: tuple[Result, int] | None = None
        """The run in the model and its device finish time in microseconds."""
        self._latest: Result | None = None
        self._last_shown: Result | None = None
        self._sequence = 0

    @property
    def latest(self) -> Result | None:
        """The result on the phone's screen at the last tick."""
        return self._last_shown

    def ticks(self) -> Iterator[Tick]:
        """One tick per camera frame, computing the model wherever the phone would run it."""
        fps = self.source.fps
        index = 0
        try:
            while self.max_frames is None or index < self.max_frames:
                bgr = self.source.read()
                if bgr is None:
                    return
                now_us = round(index * US / fps)
                now = now_us / US
                self._finish_until(now_us)
                self.stats.frame_arrived(now)
                admitted = self.queue.arrive(Arrival(index, now, bgr))
                if admitted is not None:
                    self._start(admitted, now_us)
                fresh = self._latest is not None and self._latest is not self._last_shown
                if fresh:
                    self.stats.frame_shown(self._latest.captured_at, self._latest.finished_at)
                elif self._latest is None:
                    self.blank_ticks += 1
                self._last_shown = self._latest
                self.ticks_done += 1
                yield Tick(index, now, bgr, self._latest, fresh)
                index += 1
        finally:
            self.queue.close()
            self.source.close()
            self._finish_until(math.inf)

    def phone_hud(self) -> str:
        return phone_hud_line(self.display_times, self._latencies, self.stats.frames_dropped, self.stats.frames_in)

    def _start(self, arrival: Arrival[np.ndarray], at_us: int) -> None:
        model = self.models.model
        timing = self.timing_for(model)
        model_input = fit_camera_frame(arrival.frame)
        began = time.perf_counter()
        try:
            stylized = model.runner.run(model_input)
        except BaseException:  # interrupted (Ctrl-C, SIGTERM) or failed: the frame is not stylized, so dropped
            self.stats.frame_dropped(Verdict.DROP_BUSY)
            raise
        self.desktop_seconds += time.perf_counter() - began
        if self.damper is not None:
            stylized = self.damper(model_input, stylized)
        self._sequence += 1
        self.timing = timing
        finish_us = at_us + max(1, round(timing.latency_ms * 1000))
        result = Result(self._sequence, arrival.index, model_input, stylized, arrival.captured_at, at_us / US,
                        finish_us / US, model.name, model.runner.backend)
        self._running = (result, finish_us)

    def _finish_until(self, now_us: float) -> None:
        """Complete the runs that end by device time `now_us`, handing the late frame over after each."""
        while self._running is not None and self._running[1] <= now_us:
            (done, finish_us), self._running = self._running, None
            self.stats.frame_stylized(done.started_at, done.finished_at)
            self._latencies.append(done.finished_at - done.started_at)
            if math.isfinite(now_us):
                self._latest = done
                self.display_times.append(done.finished_at)
            late = self.queue.model_free()
            if late is not None:
                self._start(late, finish_us)

    def summary(self) -> dict:
        """The stats of the run on the device clock (deterministic: no desktop figure is in it)."""
        stats = self.stats.summary()
        shown = self.display_times
        end = (self.ticks_done - 1) / self.source.fps if self.ticks_done else 0.0
        on_screen = [b - a for a, b in zip(shown, shown[1:])] + ([end - shown[-1]] if shown else [])
        fps = (len(shown) - 1) / (shown[-1] - shown[0]) if len(shown) >= 2 and shown[-1] > shown[0] else 0.0
        return {
            **stats,
            "clock": "device",
            "fps": round(fps, 3),
            "timeline_frames": self.ticks_done,
            "frames_blank": self.blank_ticks,
            "screen_ms_p50": percentile_ms(on_screen, 50),
            "screen_ms_max": round(max(on_screen) * 1000, 2) if on_screen else None,
            "phone_hud": self.phone_hud(),
            "device": self.timing.as_dict() if self.timing is not None else None,
        }
