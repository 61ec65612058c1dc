"""Flicker of a teacher and its students on one clip: the rows that benchmarks/flicker.py and
benchmarks/flicker_styles.py print and write.

Each net is run over the clip's frames and scored by `mobilestyle.flicker.warping_error` along the input's
flows (computed once by the caller, `mobilestyle.flicker.clip_flows`). With a teacher, every row gets its
detail ratio (mean |I - blur_1.5(I)| over the teacher's, as in `mobilestyle evaluate`), and each blur
sigma adds a row for the teacher's own frames blurred by it: what blur alone buys in warping error at each
level of detail. Those rows and the teacher itself (detail 1.0) make the blur curve; a student's
"steadier_than_blur" is the curve's warping error at the student's detail ratio (linear interpolation)
over the student's warping error: how many times steadier it is than a blur of the teacher that keeps as
much detail. A student whose detail lies outside the curve gets none: the curve is not extrapolated. A
student sharper than the curve's sharpest point (the teacher) gets "steadier_than_blur_at_least" instead:
that point's warping error over the student's. No blur of the teacher keeps more detail than the teacher,
and along the curve less detail means less warping error, so the figure at the student's detail could only
be larger.

A row is a dict: "row" (its label), "kind" ("teacher", "blurred teacher", "student"; the input's floor row
has none), "warping_error", "rms_grey", and where they apply "detail_ratio" and "steadier_than_blur" (or
"steadier_than_blur_at_least").
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import cv2
import numpy as np
from rich.progress import Progress

from mobilestyle.errors import UserError
from mobilestyle.evaluation.evaluate import to_uint8
from mobilestyle.flicker import ClipScore, PairFlow, warping_error
from mobilestyle.images import fit_frame
from mobilestyle.training.quality import blur, detail

TEACHER, BLURRED_TEACHER, STUDENT = "teacher", "blurred teacher", "student"


@dataclass(frozen=True)
class Net:
    """A net measured on the clip: `run` maps an input frame to its stylized frame."""

    label: str
    run: Callable[[np.ndarray], np.ndarray]


def read_frames(video: Path, start: int, count: int, stride: int, size: tuple[int, int]) -> list[np.ndarray]:
    """Up to `count` frames from frame `start`, every `stride`th, fitted to `size` (width, height), RGB."""
    capture = cv2.VideoCapture(str(video))
    if not capture.isOpened():
        raise UserError(f"cannot read {video}")
    frames, index = [], 0
    while len(frames) < count:
        ok, bgr = capture.read()
        if not ok:
            break
        if index >= start and (index - start) % stride == 0:
            frames.append(fit_frame(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), *size))
        index += 1
    capture.release()
    if len(frames) < 2:
        raise UserError(f"{video} has fewer than 2 frames from frame {start}")
    return frames


def score_fields(score: ClipScore) -> dict:
    return {"warping_error": score.mean, "rms_grey": score.rms_grey_levels}


def floor_row(frames: list[np.ndarray], flows: list[PairFlow]) -> dict:
    """The input's own warping error: what lighting, motion blur and the flow's residue cost any filter."""
    return {"row": "input (floor)", **score_fields(warping_error(frames, flows))}


def mean_detail(frames: list[np.ndarray]) -> float:
    return float(np.mean([detail(frame) for frame in frames]))


def stylize(net: Net, frames: list[np.ndarray], progress: Progress | None = None) -> list[np.ndarray]:
    task = progress.add_task(net.label, total=len(frames)) if progress is not None else None
    outputs = []
    for image in frames:
        outputs.append(net.run(image))
        if task is not None:
            progress.advance(task)
    return outputs


def net_row(label: str, kind: str, outputs: list[np.ndarray], flows: list[PairFlow],
            teacher_detail: float | None) -> dict:
    """A net's row; its detail ratio only when there is a teacher's detail to divide by."""
    row = {"row": label, "kind": kind, **score_fields(warping_error(outputs, flows))}
    if teacher_detail:
        row["detail_ratio"] = mean_detail(outputs) / teacher_detail
    return row


def blurred_teacher_rows(label: str, outputs: list[np.ndarray], flows: list[PairFlow], sigmas: list[float],
                         teacher_detail: float) -> list[dict]:
    """A row per sigma for the teacher's frames blurred by it (px), with the detail left."""
    rows = []
    for sigma in sigmas:
        blurred = [to_uint8(blur(output, sigma)) for output in outputs]
        rows.append({"row": f"{label} blurred (sigma {sigma:g} px)", "kind": BLURRED_TEACHER,
                     **score_fields(warping_error(blurred, flows)),
                     "detail_ratio": mean_detail(blurred) / teacher_detail})
    return rows


def blur_curve(rows: list[dict]) -> list[tuple[float, float]]:
    """(detail ratio, warping error) of the blurred teachers and the teacher, by detail."""
    return sorted((row["detail_ratio"], row["warping_error"]) for row in rows
                  if row.get("kind") in (TEACHER, BLURRED_TEACHER) and "detail_ratio" in row)


def steadier_than_blur(curve: list[tuple[float, float]], detail_ratio: float, error: float) -> float | None:
    """The curve's warping error at `detail_ratio` (linear between its points) over `error`.

    None when the detail lies outside the curve's range (no extrapolation), the curve has fewer than two
    points, or `error` is not above 0.
    """
    if len(curve) < 2 or not error > 0:
        return None
    details, errors = zip(*sorted(curve))
    if not details[0] <= detail_ratio <= details[-1]:
        return None
    return float(np.interp(detail_ratio, details, errors)) / error


def steadier_than_sharpest(curve: list[tuple[float, float]], detail_ratio: float, error: float) -> float | None:
    """For a student with more detail than the curve's sharpest point: that point's warping error over
    `error`, a lower bound on "x steadier than blur" there. None for a student inside the curve, a curve of
    fewer than two points, or an `error` not above 0."""
    if len(curve) < 2 or not error > 0:
        return None
    sharpest_detail, sharpest_error = max(curve)
    return sharpest_error / error if detail_ratio > sharpest_detail else None


def add_steadier_than_blur(rows: list[dict]) -> None:
    """Give every student row with a detail ratio inside the blur curve its "steadier_than_blur", and every
    one sharper than the curve its "steadier_than_blur_at_least" (in place)."""
    curve = blur_curve(rows)
    for row in rows:
        if row.get("kind") == STUDENT and "detail_ratio" in row:
            ratio = steadier_than_blur(curve, row["detail_ratio"], row["warping_error"])
            if ratio is not None:
                row["steadier_than_blur"] = ratio
            bound = steadier_than_sharpest(curve, row["detail_ratio"], row["warping_error"])
            if bound is not None:
                row["steadier_than_blur_at_least"] = bound


def steadier_text(figures: dict, outside: str = "") -> str:
    """"x steadier than blur" as a table cell: "1.93", "≥ 1.27" for a student sharper than the curve, or
    `outside` where there is no figure."""
    if "steadier_than_blur" in figures:
        return f"{figures['steadier_than_blur']:.2f}"
    if "steadier_than_blur_at_least" in figures:
        return f"≥ {figures['steadier_than_blur_at_least']:.2f}"
    return outside


def measure_clip(frames: list[np.ndarray], flows: list[PairFlow], teacher: Net | None, students: list[Net],
                 blur_sigmas: list[float] = (), progress: Progress | None = None,
                 student_extras: Callable[[str, list[np.ndarray]], list[dict]] | None = None) -> list[dict]:
    """The rows of the blurred teachers, the teacher, then each student (followed by its `student_extras`).

    Blurring needs the teacher. `student_extras(label, outputs)` adds rows of the caller's own after a
    student's row (the flow damper's), while that student's frames are still at hand.
    """
    if blur_sigmas and teacher is None:
        raise ValueError("blurred-teacher rows need a teacher")
    rows, teacher_detail = [], None
    if teacher is not None:
        outputs = stylize(teacher, frames, progress)
        teacher_detail = mean_detail(outputs)
        rows += blurred_teacher_rows(teacher.label, outputs, flows, list(blur_sigmas), teacher_detail)
        rows.append(net_row(teacher.label, TEACHER, outputs, flows, teacher_detail))
    for student in students:
        outputs = stylize(student, frames, progress)
        rows.append(net_row(student.label, STUDENT, outputs, flows, teacher_detail))
        rows += student_extras(student.label, outputs) if student_extras else []
    add_steadier_than_blur(rows)
    return rows
