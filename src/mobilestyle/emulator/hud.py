"""What the window draws: the stylized frame (optionally beside the camera frame) and a heads-up display."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

PANE_SIZE = (1280, 720)
SIDE_BY_SIDE_PANE_SIZE = (960, 540)
FONT = cv2.FONT_HERSHEY_SIMPLEX
TEXT_COLOR = (255, 255, 255)
ACCENT_COLOR = (80, 220, 255)
PANEL_COLOR = (24, 24, 24)
KEYS_HINT = "q quit   h HUD   o original   s snapshot   n/p next/previous model"


@dataclass(frozen=True)
class HudInfo:
    model: str
    backend: str
    fps: float | None
    fps_target: float | None
    latency_ms: float | None
    frames_in: int
    frames_dropped: int
    source: str
    notice: str | None = None
    device: str | None = None
    phone_hud: str | None = None


def hud_lines(info: HudInfo) -> list[str]:
    target = f" (target {info.fps_target:g})" if info.fps_target else " (unpaced)"
    latency = f"{info.latency_ms:.0f} ms" if info.latency_ms is not None else "-"
    share = f" ({100 * info.frames_dropped / info.frames_in:.0f}%)" if info.frames_in else ""
    fps = "-" if info.fps is None else f"{info.fps:.1f}"
    lines = [
        f"model    {info.model}",
        f"backend  {info.backend}",
        f"fps      {fps}{target}",
        f"latency  {latency}",
        f"dropped  {info.frames_dropped} of {info.frames_in}{share}",
        f"source   {info.source}",
    ]
    if info.device is not None:
        lines.insert(2, f"device   {info.device}")
    if info.phone_hud is not None:
        lines.append(f"phone    {info.phone_hud}")
    return lines


def draw_panel(canvas: np.ndarray, lines: list[str], origin: tuple[int, int], scale: float = 0.6,
               color: tuple[int, int, int] = TEXT_COLOR) -> None:
    """Text lines on a translucent dark panel, in place (BGR canvas)."""
    thickness = 1 if scale < 0.7 else 2
    line_height = int(32 * scale) + 6
    width = max(cv2.getTextSize(line, FONT, scale, thickness)[0][0] for line in lines) + 24
    height = line_height * len(lines) + 14
    x, y = origin
    x1, y1 = min(x + width, canvas.shape[1]), min(y + height, canvas.shape[0])
    region = canvas[y:y1, x:x1]
    region[:] = cv2.addWeighted(region, 0.35, np.full_like(region, PANEL_COLOR), 0.65, 0)
    for row, line in enumerate(lines):
        baseline = y + 8 + line_height * (row + 1) - 6
        cv2.putText(canvas, line, (x + 12, baseline), FONT, scale, color, thickness, cv2.LINE_AA)


def compose(stylized_rgb: np.ndarray, camera_rgb: np.ndarray | None, info: HudInfo | None) -> np.ndarray:
    """The BGR image the window shows: the stylized frame, the camera frame on its left when given, the HUD."""
    pane = SIDE_BY_SIDE_PANE_SIZE if camera_rgb is not None else PANE_SIZE
    panes = [cv2.resize(stylized_rgb, pane, interpolation=cv2.INTER_LINEAR)]
    if camera_rgb is not None:
        panes.insert(0, cv2.resize(camera_rgb, pane, interpolation=cv2.INTER_LINEAR))
    canvas = cv2.cvtColor(np.hstack(panes) if len(panes) > 1 else panes[0], cv2.COLOR_RGB2BGR)
    if info is not None:
        draw_panel(canvas, hud_lines(info), (12, 12))
        draw_panel(canvas, [KEYS_HINT], (12, canvas.shape[0] - 44), scale=0.5)
        if info.notice:
            draw_panel(canvas, [info.notice], (12, canvas.shape[0] - 90), scale=0.6, color=ACCENT_COLOR)
    return canvas


def waiting_screen(message: str) -> np.ndarray:
    canvas = np.zeros((PANE_SIZE[1], PANE_SIZE[0], 3), np.uint8)
    draw_panel(canvas, [message], (12, PANE_SIZE[1] // 2 - 30), scale=0.8)
    return canvas
