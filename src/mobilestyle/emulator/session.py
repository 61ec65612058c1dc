"""One emulator run: start the loop, show it in a window or consume it headless, feed the outputs, sum up."""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Protocol

import cv2
import numpy as np

from mobilestyle import frame
from mobilestyle.emulator.hud import PANE_SIZE, SIDE_BY_SIDE_PANE_SIZE, HudInfo, compose, waiting_screen
from mobilestyle.emulator.loop import PhoneLoop, Result, clock
from mobilestyle.emulator.models import ModelSlot
from mobilestyle.emulator.outputs import Recording, VirtualCamera
from mobilestyle.emulator.sources import FrameSource
from mobilestyle.errors import UserError
from mobilestyle.images import save_png

WINDOW_TITLE = "mobilestyle emulator"
KEY_QUIT = {ord("q"), 27}
HUD_REFRESH_S = 0.25
NOTICE_S = 2.5


class Output(Protocol):
    def feed(self, stylized_rgb: np.ndarray, now: float) -> None: ...


@dataclass
class RunOptions:
    pace_fps: float | None = frame.FPS_TARGET
    max_frames: int | None = None
    record: Path | None = None
    virtual_cam: bool = False
    window: bool = True
    hud: bool = True
    side_by_side: bool = False
    snapshot_dir: Path = Path("snapshots")
    on_progress: Callable[[int], None] | None = None
    messages: list[str] = field(default_factory=list)
    damper: float | None = None
    """`flicker.FlowDamper` weight of each new result (None: off, as in the app)."""

    def make_damper(self):
        if self.damper is None:
            return None
        from mobilestyle.flicker import FlowDamper

        return FlowDamper(self.damper)


def run(source: FrameSource, models: ModelSlot, options: RunOptions) -> dict[str, Any]:
    """Run the emulator until the source ends, `max_frames` frames have arrived, or the user quits."""
    loop = PhoneLoop(source, models, options.pace_fps, options.max_frames, damper=options.make_damper())
    with contextlib.ExitStack() as resources:
        outputs: list[Output] = []
        if options.record is not None:
            outputs.append(Recording.open(options.record, resources))
        if options.virtual_cam:
            camera = VirtualCamera.open(resources)
            options.messages.append(f"virtual camera: {camera.device}")
            outputs.append(camera)
        loop.start()
        try:
            if options.window:
                show_window(loop, models, outputs, options)
            else:
                consume_headless(loop, outputs, options.on_progress)
        except KeyboardInterrupt:
            options.messages.append("interrupted: stopped capture and finished the frame in flight")
        finally:
            loop.stop()
            loop.join()
        last = loop.latest()
        for output in outputs:
            if last is not None:
                output.feed(last.stylized, clock())
    model = models.model
    return {**loop.stats.summary(), "source": source.name, "source_fps": round(source.fps, 3),
            "model": model.name, "model_path": str(model.path), "backend": model.runner.backend,
            "pace_fps": options.pace_fps, "damper": options.damper, "input_size": [frame.INPUT_WIDTH, frame.INPUT_HEIGHT],
            "output_size": [frame.OUTPUT_WIDTH, frame.OUTPUT_HEIGHT]}


def consume_headless(loop: PhoneLoop, outputs: list[Output], on_progress: Callable[[int], None] | None = None) -> None:
    """Take every result as it is published (the headless 'display') and feed the outputs steadily."""
    seen = 0
    while True:
        finished = loop.finished
        result = loop.wait_for_result(seen, timeout=0.5 / frame.FPS_TARGET)
        if result is not None:
            seen = result.sequence
        _feed(loop, outputs, result)
        if on_progress is not None:
            on_progress(loop.stats.frames_in)
        if finished and result is None:
            return


def _feed(loop: PhoneLoop, outputs: list[Output], new_result: Result | None) -> None:
    latest = loop.latest()
    now = clock()
    if latest is not None:
        for output in outputs:
            output.feed(latest.stylized, now)
    if new_result is not None:
        loop.stats.frame_shown(new_result.captured_at, clock())


class WindowState:
    def __init__(self, options: RunOptions):
        self.hud = options.hud
        self.side_by_side = options.side_by_side
        self.snapshot_dir = options.snapshot_dir
        self.notice: tuple[str, float] | None = None
        self.quit = False
        self.sized_for: bool | None = None
        """The side-by-side setting the window was last sized for."""

    def say(self, text: str) -> None:
        self.notice = (text, clock() + NOTICE_S)

    def current_notice(self, models: ModelSlot, waiting_for_quit: bool) -> str | None:
        if models.loading:
            return f"loading {models.loading} ..."
        if models.last_error:
            return f"could not switch: {models.last_error}"
        if self.notice is not None and clock() < self.notice[1]:
            return self.notice[0]
        if waiting_for_quit:
            return "the source has ended: press q to quit"
        return None


def show_window(loop: PhoneLoop, models: ModelSlot, outputs: list[Output], options: RunOptions) -> None:
    """The OpenCV window: stylized frame scaled to the window, HUD, side-by-side original, keys."""
    cv2.namedWindow(WINDOW_TITLE, cv2.WINDOW_NORMAL | cv2.WINDOW_KEEPRATIO | cv2.WINDOW_GUI_NORMAL)
    cv2.moveWindow(WINDOW_TITLE, 0, 0)
    cv2.imshow(WINDOW_TITLE, waiting_screen(f"starting {models.model.name} on {loop.source.name} ..."))
    state = WindowState(options)
    shown_sequence, shown_at, shown_layout = 0, 0.0, None
    try:
        while not state.quit:
            handle_key(cv2.waitKey(5) & 0xFF, state, loop.latest(), models)
            if cv2.getWindowProperty(WINDOW_TITLE, cv2.WND_PROP_VISIBLE) < 1:
                break
            result = loop.latest()
            is_new = result is not None and result.sequence != shown_sequence
            layout = (state.hud, state.side_by_side)
            if result is not None and (is_new or layout != shown_layout or clock() - shown_at > HUD_REFRESH_S):
                if layout != shown_layout:
                    cv2.resizeWindow(WINDOW_TITLE, *window_size(state.side_by_side))
                info = _hud_info(loop, models, result, state, options) if state.hud else None
                cv2.imshow(WINDOW_TITLE, compose(result.stylized, result.model_input if state.side_by_side else None, info))
                shown_sequence, shown_at, shown_layout = result.sequence, clock(), layout
            _feed(loop, outputs, result if is_new else None)
            if loop.failed or (loop.finished and (options.max_frames is not None or loop.stats.frames_in == 0)):
                break
    finally:
        cv2.destroyWindow(WINDOW_TITLE)
        cv2.waitKey(1)


def window_size(side_by_side: bool) -> tuple[int, int]:
    if side_by_side:
        return 2 * SIDE_BY_SIDE_PANE_SIZE[0], SIDE_BY_SIDE_PANE_SIZE[1]
    return PANE_SIZE


def _hud_info(loop: PhoneLoop, models: ModelSlot, result: Result, state: WindowState, options: RunOptions) -> HudInfo:
    stats = loop.stats
    return HudInfo(model=result.model_name, backend=result.backend, fps=stats.recent_fps(),
                   fps_target=options.pace_fps, latency_ms=stats.recent_latency_ms(),
                   frames_in=stats.frames_in, frames_dropped=stats.frames_dropped, source=loop.source.name,
                   notice=state.current_notice(models, loop.finished and options.max_frames is None))


def handle_key(key: int, state: WindowState, result: Result | None, models: ModelSlot) -> None:
    """Keys: q quit, h HUD, o side-by-side original, s snapshot of `result`, n/p next/previous model."""
    if key in KEY_QUIT:
        state.quit = True
    elif key == ord("h"):
        state.hud = not state.hud
    elif key == ord("o"):
        state.side_by_side = not state.side_by_side
    elif key == ord("s"):
        if result is not None:
            path = state.snapshot_dir / f"{result.model_name}-{time.strftime('%Y%m%d-%H%M%S')}-{result.index:06d}.png"
            try:
                state.say(f"saved {save_png(result.stylized, path)}")
            except UserError as exc:
                state.say(f"snapshot failed: {exc}")
    elif key in (ord("n"), ord("p")):
        models.step(1 if key == ord("n") else -1)
