"""One emulator run on the device clock: drive the `DeviceLoop`, show or record its timeline, sum up.

The window plays the phone's display timeline at the source's frame rate when the desktop keeps up and
slower when it does not (the HUD says at what speed); the recording has one frame per camera frame at
the source's frame rate, so it plays back in real time as the phone would have shown it, with a video
file's audio.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any, Callable

import cv2
import numpy as np

from mobilestyle import frame
from mobilestyle.emulator.device import DeviceTiming, device_timing, model_macs
from mobilestyle.emulator.device_loop import DeviceLoop, Tick
from mobilestyle.emulator.fitting import fit_camera_frame
from mobilestyle.emulator.hud import HudInfo, compose, waiting_screen
from mobilestyle.emulator.models import LoadedModel, ModelSlot
from mobilestyle.emulator.outputs import TimelineRecording
from mobilestyle.emulator.session import HUD_REFRESH_S, WINDOW_TITLE, RunOptions, WindowState, handle_key, window_size
from mobilestyle.emulator.sources import FrameSource, VideoSource
from mobilestyle.emulator.stats import HUD_FPS_FRAMES

BLANK = np.zeros((frame.OUTPUT_HEIGHT, frame.OUTPUT_WIDTH, 3), np.uint8)


def timing_resolver(device: str | None, latency_ms: float | None) -> Callable[[LoadedModel], DeviceTiming]:
    """The device timing of each model (computed once per model file): estimated from its MACs, or given."""
    cache: dict = {}

    def timing_for(model: LoadedModel) -> DeviceTiming:
        if model.path not in cache:
            metadata = getattr(model.runner, "model_metadata", {})
            cache[model.path] = device_timing(device, latency_ms, model_macs(metadata), model.path.name)
        return cache[model.path]

    return timing_for


def run_device(source: FrameSource, models: ModelSlot, timing_for: Callable[[LoadedModel], DeviceTiming],
               options: RunOptions) -> dict[str, Any]:
    """Run the source through the model on the device clock until it ends, `max_frames`, or the user quits."""
    timing_for(models.model)  # a model whose timing is unknown fails here, before any work
    models.check = timing_for
    loop = DeviceLoop(source, models, timing_for, options.pace_fps, options.max_frames, damper=options.make_damper())
    recording = None
    with contextlib.ExitStack() as resources:
        if options.record is not None:
            recording = TimelineRecording.open(options.record, resources, source.fps,
                                               audio_source=source.path if isinstance(source, VideoSource) else None)
        ticks = loop.ticks()
        try:
            if options.window:
                _play_window(loop, ticks, models, recording, options)
            else:
                for tick in ticks:
                    if recording is not None:
                        recording.write(None if tick.result is None else tick.result.stylized)
                    if options.on_progress is not None:
                        options.on_progress(loop.stats.frames_in)
        except KeyboardInterrupt:
            options.messages.append("interrupted: stopped at the current camera frame")
        finally:
            ticks.close()
    model = models.model
    if loop.stats.frames_stylized:
        options.messages.append(
            f"desktop: {loop.stats.frames_stylized} frames stylized in {loop.desktop_seconds:.1f} s "
            f"({1000 * loop.desktop_seconds / loop.stats.frames_stylized:.0f} ms each); on the phone each takes "
            f"{loop.timing.label}")
    return {**loop.summary(), "source": source.name, "source_fps": round(source.fps, 3),
            "model": model.name, "model_path": str(model.path), "backend": model.runner.backend,
            "pace_fps": options.pace_fps, "damper": options.damper, "input_size": [frame.INPUT_WIDTH, frame.INPUT_HEIGHT],
            "output_size": [frame.OUTPUT_WIDTH, frame.OUTPUT_HEIGHT],
            "record_frames": recording.frames_written if recording is not None else None,
            "record_audio_packets": recording.audio_packets if recording is not None else None}


def _play_window(loop: DeviceLoop, ticks, models: ModelSlot, recording: TimelineRecording | None,
                 options: RunOptions) -> None:
    """Show each tick no sooner than its device time after the start (slower when the desktop lags)."""
    cv2.namedWindow(WINDOW_TITLE, cv2.WINDOW_NORMAL | cv2.WINDOW_KEEPRATIO | cv2.WINDOW_GUI_NORMAL)
    cv2.moveWindow(WINDOW_TITLE, 0, 0)
    cv2.imshow(WINDOW_TITLE, waiting_screen(f"starting {models.model.name} on {loop.source.name} ..."))
    state = WindowState(options)
    started, tick = time.perf_counter(), None
    try:
        for tick in ticks:
            if recording is not None:
                recording.write(None if tick.result is None else tick.result.stylized)
            if not _wait(loop, tick, models, state, options, started, until=started + tick.time):
                return
        while tick is not None and options.max_frames is None and not state.quit:
            if not _wait(loop, tick, models, state, options, started, until=time.perf_counter() + HUD_REFRESH_S,
                         ended=True):
                return
    finally:
        cv2.destroyWindow(WINDOW_TITLE)
        cv2.waitKey(1)


def _wait(loop: DeviceLoop, tick: Tick, models: ModelSlot, state: WindowState, options: RunOptions,
          started: float, until: float, ended: bool = False) -> bool:
    """Show `tick`, then handle keys until `until` (redrawing when the layout changes); False: quit."""
    layout = _show(loop, tick, models, state, options, started, ended)
    while True:
        handle_key(cv2.waitKey(5) & 0xFF, state, tick.result, models)
        if state.quit or cv2.getWindowProperty(WINDOW_TITLE, cv2.WND_PROP_VISIBLE) < 1:
            return False
        if (state.hud, state.side_by_side) != layout:
            layout = _show(loop, tick, models, state, options, started, ended)
        if time.perf_counter() >= until:
            return True


def _show(loop: DeviceLoop, tick: Tick, models: ModelSlot, state: WindowState, options: RunOptions,
          started: float, ended: bool = False):
    layout = (state.hud, state.side_by_side)
    if state.sized_for != state.side_by_side:
        cv2.resizeWindow(WINDOW_TITLE, *window_size(state.side_by_side))
        state.sized_for = state.side_by_side
    camera = fit_camera_frame(tick.camera_bgr) if state.side_by_side else None
    stylized = BLANK if tick.result is None else tick.result.stylized
    info = _hud_info(loop, tick, models, state, options, started, ended) if state.hud else None
    cv2.imshow(WINDOW_TITLE, compose(stylized, camera, info))
    return layout


def _hud_info(loop: DeviceLoop, tick: Tick, models: ModelSlot, state: WindowState, options: RunOptions,
              started: float, ended: bool) -> HudInfo:
    recent = loop.display_times[-HUD_FPS_FRAMES:]
    fps = (len(recent) - 1) / (recent[-1] - recent[0]) if len(recent) >= 2 and recent[-1] > recent[0] else None
    elapsed = time.perf_counter() - started
    speed = f", playing at {min(1.0, tick.time / elapsed):.2f}x" if elapsed > 0 and tick.time > 0 else ""
    timing = loop.timing or loop.timing_for(models.model)
    return HudInfo(model=tick.result.model_name if tick.result else models.model.name,
                   backend=f"{models.model.runner.backend} (desktop)", fps=fps, fps_target=options.pace_fps,
                   latency_ms=timing.latency_ms, frames_in=loop.stats.frames_in,
                   frames_dropped=loop.stats.frames_dropped, source=loop.source.name,
                   notice=state.current_notice(models, ended), device=f"{timing.label}{speed}",
                   phone_hud=loop.phone_hud())
