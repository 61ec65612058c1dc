"""What a distillation run shows people: held-out measures, the grid, the curve (CSV and plot)."""

from __future__ import annotations

import csv
from pathlib import Path

import keras
import numpy as np
from PIL import Image

from mobilestyle.errors import UserError
from mobilestyle.files import atomic_path
from mobilestyle.training import quality
from mobilestyle.training.targets import stylize_frames
from mobilestyle.training.vgg import LossNetwork

CROP = 192
CURVE_MEASURES = (("structure_psnr", "structure PSNR (dB, blur σ3)"), ("gram_distance", "Gram distance"),
                  ("detail_ratio", "detail ratio"), ("border", "border departure (0..255)"))


def measure(model: keras.Model, content: np.ndarray, target: np.ndarray,
            network: LossNetwork | None) -> tuple[dict, np.ndarray]:
    """Mean quality measures of the model's frames against the teacher's, and the model's frames."""
    produced = stylize_frames(model, content)
    scores = [quality.score(t, s, network) for t, s in zip(target, produced)]
    return quality.mean_scores(scores), produced


def write_grid(path: Path, content: np.ndarray, target: np.ndarray, student: np.ndarray, rows: int = 3) -> None:
    """One row per frame: content | teacher | student at half size, then teacher and student centre crops at 100%."""
    strips = []
    for c, t, s in list(zip(content, target, student))[:rows]:
        half = Image.fromarray(np.concatenate([c, t, s], axis=1))
        half = np.asarray(half.resize((half.width // 2, half.height // 2), Image.Resampling.BILINEAR))
        side = min(CROP, *t.shape[:2])
        top, left = (t.shape[0] - side) // 2, (t.shape[1] - side) // 2
        crops = np.concatenate([t[top:top + side, left:left + side], s[top:top + side, left:left + side]], axis=1)
        canvas = np.zeros((max(half.shape[0], side), half.shape[1] + crops.shape[1] + 8, 3), np.uint8)
        canvas[: half.shape[0], : half.shape[1]] = half
        canvas[:side, half.shape[1] + 8:] = crops
        strips.append(canvas)
    with atomic_path(path) as tmp:
        Image.fromarray(np.concatenate(strips, axis=0)).save(tmp, format="PNG")


def write_curve(folder: Path, curve: list[dict], title: str) -> None:
    """`curve.csv` and `curve.png`: the held-out measures against CPU minutes."""
    write_curve_files(folder / "curve.csv", folder / "curve.png", curve, title)


def write_curve_files(csv_path: Path, png_path: Path, curve: list[dict], title: str) -> None:
    with atomic_path(csv_path) as tmp:
        keys = list(dict.fromkeys(key for point in curve for key in point))
        with open(tmp, "w", newline="") as handle:
            writer = csv.DictWriter(handle, keys)
            writer.writeheader()
            writer.writerows(curve)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    measures = [(key, label) for key, label in CURVE_MEASURES if any(point.get(key) is not None for point in curve)]
    figure, axes = plt.subplots(1, len(measures), figsize=(4 * len(measures), 3.2), squeeze=False)
    minutes = [point["cpu_minutes"] for point in curve]
    for axis, (key, label) in zip(axes[0], measures):
        axis.plot(minutes, [point.get(key) for point in curve], marker=".")
        axis.set_xlabel("CPU minutes")
        axis.set_title(label, fontsize=9)
        axis.grid(alpha=0.3)
    figure.suptitle(title, fontsize=10)
    figure.tight_layout()
    with atomic_path(png_path) as tmp:
        figure.savefig(tmp, format="png", dpi=90)
    plt.close(figure)


def read_curve(path: Path, columns: tuple[str, ...] = ("step", "cpu_minutes")) -> list[dict]:
    """The points of a curve.csv (or of the run's work folder holding one), numbers as numbers.

    Reads what `write_curve_files` writes and the benchmarks' tables of several runs (a `run` column);
    a missing file, or one without points or without `columns`, is a one-line `UserError`.
    """
    csv_path = path / "curve.csv" if path.is_dir() else path
    if not csv_path.is_file():
        raise UserError(f"no curve at {csv_path}")
    with open(csv_path, newline="") as handle:
        rows = [{key: _number(value) for key, value in row.items()} for row in csv.DictReader(handle)]
    if not rows or any(key not in rows[0] for key in columns):
        raise UserError(f"{csv_path} is not a distillation curve (no points, or no {'/'.join(columns)} columns)")
    return rows


def _number(text: str | None):
    if text in (None, ""):
        return None
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text
