"""What `mobilestyle evaluate` writes: `report.json` (per-photo rows, means, calibration, inputs) and
`grid.png` (photo | teacher | students at half size, then 100% centre crops of teacher and students).

Inputs are described without the machine's absolute paths: relative to the working folder when
they lie inside it, else by name only (`evaluate.describe_path`); whatever else could hold one (a
teacher named by a path in its checkpoint's metadata) is made portable (`mobilestyle.portable_paths`).
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw

from mobilestyle.errors import UserError
from mobilestyle.evaluation.evaluate import BLURRED, PHOTO, SHIFTED, Evaluation, describe_path
from mobilestyle.files import atomic_path, ensure_writable_dir
from mobilestyle.portable_paths import portable
from mobilestyle.styles import BLURRED_CALIBRATION, SHIFTED_CALIBRATION
from mobilestyle.training.quality import (BORDER_INNER, BORDER_OUTER, CALIBRATION_BLUR_SIGMA, CALIBRATION_SHIFT,
                                          DETAIL_SIGMA, SHIFT_MARGIN, STRUCTURE_SIGMA)
from mobilestyle.training.vgg import LossNetwork

REPORT_FORMAT = "mobilestyle.evaluation/1"
REPORT_NAME = "report.json"
GRID_NAME = "grid.png"
GAP = 4
HEADER = 16
BACKGROUND = 255

ROW_TITLES = {SHIFTED: "shifted teacher", BLURRED: "blurred teacher", PHOTO: "photo"}
STYLE_CALIBRATION_KEYS = {SHIFTED: SHIFTED_CALIBRATION, BLURRED: BLURRED_CALIBRATION}
CALIBRATION_FIGURES = ("structure_psnr", "gram_distance", "detail_ratio", "psnr", "ssim")


def measures(network: LossNetwork | None) -> dict[str, str]:
    texture = ("not measured" if network is None else
               f"sum over {'/'.join(network.style_layers)} of ||G - G_teacher||_F / ||G_teacher||_F, "
               f"G = F^T F / (H W C), {network.family} ({network.source}); 0: the teacher's texture statistics")
    return {
        "structure_psnr": f"PSNR (dB) after a Gaussian blur of both frames, sigma {STRUCTURE_SIGMA:g} px",
        "gram_distance": texture,
        "detail_ratio": f"mean |I - blur_sigma{DETAIL_SIGMA:g}(I)| of the frame over the teacher's (below 1: blurrier)",
        "border": f"how far the mean colour of the frame's outer {BORDER_OUTER} px departs from the next "
                  f"{BORDER_INNER} px inward (0..255, mean over sides and channels)",
        "reference_border": "the same for the teacher's frame",
        "psnr": "PSNR (dB) against the teacher's frame",
        "ssim": "SSIM against the teacher's frame",
        SHIFTED: f"the teacher on the photo shifted {CALIBRATION_SHIFT} px right and down (then shifted back) "
                 f"against the teacher on the photo, {SHIFT_MARGIN} px left out at each side (so no border "
                 "figures)",
        BLURRED: f"the teacher's frame blurred (Gaussian, sigma {CALIBRATION_BLUR_SIGMA:g} px, back to uint8) "
                 "against the teacher's frame",
        PHOTO: "the photo itself against the teacher's frame (its border: the photo's own)",
        "exported_models": "an exported model's 1080p frame is area-downscaled to the compared size and compared "
                           "with the teacher's frame bilinearly upsampled to 1080p and area-downscaled back",
    }


def clean(value):
    """JSON-safe: NaN and infinities become null, recursively."""
    if isinstance(value, dict):
        return {key: clean(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean(item) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def style_quality(student_means: dict, calibration_means: dict, frames: int, size: tuple[int, int]) -> dict:
    """A student's means in the layout of a style's JSON "quality" (what `mobilestyle styles` shows)."""
    quality = {"psnr_db": student_means["psnr"], **student_means}
    quality["calibration"] = {
        STYLE_CALIBRATION_KEYS[row]: {key: value for key, value in calibration_means[row].items()
                                      if key in CALIBRATION_FIGURES}
        for row in STYLE_CALIBRATION_KEYS}
    quality.update({"frames": frames, "size": f"{size[0]}x{size[1]}", "measured_by": "mobilestyle evaluate"})
    return quality


def build_report(evaluation: Evaluation, photo_folders: list[Path], network: LossNetwork | None) -> dict:
    width, height = evaluation.size
    student_means, calibration_means = evaluation.student_means(), evaluation.calibration_means()
    frames = len(evaluation.results)
    report = {
        "format": REPORT_FORMAT,
        "size": f"{width}x{height}",
        "teacher": {"name": evaluation.teacher.label, "source": evaluation.teacher.source,
                    "arch": evaluation.teacher.about, "reflect_pad": evaluation.teacher.pad},
        "students": [{"name": student.label, "source": student.source, "kind": student.kind, "about": student.about,
                      "quality": style_quality(student_means[student.label], calibration_means, frames,
                                               evaluation.size)}
                     for student in evaluation.students],
        "photos": {"folders": [describe_path(folder) for folder in photo_folders], "count": frames,
                   "frames": f"16:9 centre crop resized to {width}x{height}, evenly spaced over the folders"},
        "measures": measures(network),
        "means": {"students": student_means, "calibration": calibration_means},
        "per_photo": [{"photo": result.photo,
                       "students": {label: scores.as_dict() for label, scores in result.students.items()},
                       "calibration": {row: scores.as_dict() for row, scores in result.calibration.items()}}
                      for result in evaluation.results],
        "grid": GRID_NAME,
        "seconds": evaluation.seconds,
    }
    return clean(portable(report))


def centre_crop(image: np.ndarray, side: int) -> np.ndarray:
    top, left = (image.shape[0] - side) // 2, (image.shape[1] - side) // 2
    return image[top:top + side, left:left + side]


def render_grid(evaluation: Evaluation) -> np.ndarray:
    """One row per shown photo: photo | teacher | each student (half size) | 100% centre crops of teacher and students.

    The crops are square, as tall as the half-size frames, cut from the compared frames at full size.
    """
    width, height = evaluation.size
    half = (max(1, width // 2), max(1, height // 2))
    side = min(half[1], width)
    labels = [student.label for student in evaluation.students]
    titles = ["photo", "teacher", *labels, "teacher 100%", *(f"{label} 100%" for label in labels)]
    widths = [half[0]] * (2 + len(labels)) + [side] * (1 + len(labels))
    canvas_width = sum(widths) + GAP * (len(widths) + 1)
    canvas_height = HEADER + (half[1] + GAP) * len(evaluation.grid) + GAP
    canvas = Image.new("RGB", (canvas_width, canvas_height), (BACKGROUND,) * 3)
    draw = ImageDraw.Draw(canvas)
    x = GAP
    for title, column_width in zip(titles, widths):
        draw.text((x, 2), title[: max(1, column_width // 6)], fill=(0, 0, 0))
        x += column_width + GAP
    y = HEADER
    for row in evaluation.grid:
        shrink = [row.photo, row.teacher, *(row.students[label] for label in labels)]
        tiles = [cv2.resize(image, half, interpolation=cv2.INTER_AREA) for image in shrink]
        tiles += [centre_crop(image, side) for image in [row.teacher, *(row.students[label] for label in labels)]]
        x = GAP
        for tile, column_width in zip(tiles, widths):
            canvas.paste(Image.fromarray(np.ascontiguousarray(tile)), (x, y))
            x += column_width + GAP
        y += half[1] + GAP
    return np.asarray(canvas)


def check_out_dir(out: Path) -> None:
    """Fail early, before any work, when --out cannot become a writable folder (nothing is created here)."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out} exists and is not a folder")
    existing = out
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not os.access(existing, os.W_OK | os.X_OK):
        raise UserError(f"--out {out}: {existing} is not writable")


def write_outputs(out: Path, report: dict, grid: np.ndarray) -> tuple[Path, Path]:
    """Write OUT/report.json and OUT/grid.png, both or neither; a folder this call created goes if it stays empty."""
    out = Path(out)
    created = not out.exists()
    try:
        ensure_writable_dir(out)
        with atomic_path(out / REPORT_NAME) as report_tmp, atomic_path(out / GRID_NAME) as grid_tmp:
            Image.fromarray(grid).save(grid_tmp, format="PNG")
            report_tmp.write_text(json.dumps(report, indent=2) + "\n")
    except OSError as exc:
        raise UserError(f"cannot write the report into {out}: {exc.strerror or exc}") from None
    finally:
        if created and out.is_dir() and not any(out.iterdir()):
            out.rmdir()
    return out / REPORT_NAME, out / GRID_NAME


def summary_rows(report: dict) -> list[tuple[str, list[str]]]:
    """(row title, cells) for the printed table: each student's means, then the calibration and photo rows."""
    means = report["means"]

    def cells(scores: dict) -> list[str]:
        def fmt(key: str, spec: str) -> str:
            value = scores.get(key)
            return "-" if value is None else format(value, spec)

        return [fmt("structure_psnr", ".2f"), fmt("gram_distance", ".3f"), fmt("detail_ratio", ".2f"),
                fmt("border", ".1f"), fmt("reference_border", ".1f"), fmt("psnr", ".2f"), fmt("ssim", ".3f")]

    rows = [(name, cells(scores)) for name, scores in means["students"].items()]
    rows += [(ROW_TITLES[row], cells(scores)) for row, scores in means["calibration"].items()]
    return rows


SUMMARY_COLUMNS = ("structure", "texture", "detail", "border", "(teacher)", "PSNR", "SSIM")
SUMMARY_NOTE = (f"Rows: the students, then calibration: the teacher against itself on an input shifted "
                f"{CALIBRATION_SHIFT} px (interiors), a sigma-{CALIBRATION_BLUR_SIGMA:g} blur of the teacher's frame, "
                f"and the photo itself. structure: PSNR (dB) after a sigma-{STRUCTURE_SIGMA:g} blur; texture: "
                "relative Gram distance (0: the teacher's statistics); detail: fine detail over the teacher's "
                f"(1: as sharp); border: colour departure of the outer {BORDER_OUTER} px (0..255), the frame's and "
                "(the teacher's); PSNR in dB.")
