"""Students against their teacher on photos: the computation behind `mobilestyle evaluate`.

Students are mobilestyle checkpoints (`.npz`, run by Keras) or exported Core ML models (`.mlmodel`,
`.mlpackage`, run by `mobilestyle.runner`); the teacher is anything `load_teacher` reads (an ml5
folder, a pytorch/examples `.pth`, a `.npz`), run by Keras. Photos become camera frames (16:9 centre
crop, 853x480) and every figure of `mobilestyle.training.quality` is taken at 853x480.

Exported models return the 1920x1080 display frame (bilinear upsample inside the model). They are
compared at 853x480 with both sides resampled the same way: the student's 1080p frame is
downscaled by area averaging (OpenCV INTER_AREA) to 853x480, and the teacher's 853x480 frame
takes the same path the student's own 853x480 frame took inside the model: a bilinear upsample
to 1080p (half-pixel centres, as the exported `upsample` layer and the ML program's resize; an
export made with `--resize resize-bilinear` aligns corners instead, which is not mimicked), then
the same area downscale. So a perfect export scores as the teacher itself, and the up-and-down
resampling (a slight blur) costs the student nothing in the detail ratio or the texture measure.
The round trip low-passes both sides, so an export's PSNR and SSIM run a little above its
checkpoint's (muse on 3 BSDS500 test photos: 17.48 dB / 0.462 exported, 16.74 dB / 0.414 as a
checkpoint) while structure, detail and border barely move (20.82 vs 20.79 dB, 0.47 vs 0.46, 16.3).
Checkpoints are compared with the teacher's 853x480 frame as it is; so are the calibration rows
(the teacher on a 2-px-shifted input; a sigma-2 blur of the teacher's frame) and the photo row.

The teacher may run on the frame reflect-padded by `pad` px, its output cropped back, as
`mobilestyle distill` makes its targets (`training.targets.TEACHER_PAD`): lengstrom's teachers pad
with zeros inside and paint coloured bands along the frame's edges, which are a fault and not the
style. Students trained on padded targets have no bands, and against the raw teacher they lose the
bands' difference in every measure (muse, 12 BSDS test photos: structure 18.3 dB against the raw
teacher where 20.3 against the padded one). The report records the padding used.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

import cv2
import numpy as np
from rich.progress import Progress

from mobilestyle import frame
from mobilestyle.errors import UserError
from mobilestyle.networks.checkpoint import Checkpoint, load_checkpoint
from mobilestyle.portable_paths import portable_path
from mobilestyle.training.frames import evenly_spaced
from mobilestyle.training.quality import (CALIBRATION_BLUR_SIGMA, CALIBRATION_SHIFT, Scores, blur, grams,
                                          interior, mean_scores, score, shift_frame, unshift_frame)
from mobilestyle.training.targets import stylize_frames
from mobilestyle.training.teachers import load_teacher
from mobilestyle.training.vgg import LossNetwork

# (width, height) of the frames compared: the model input. Tests lower it to stay fast.
FRAME_SIZE = (frame.INPUT_WIDTH, frame.INPUT_HEIGHT)
MODEL_SUFFIXES = (".npz", ".mlmodel", ".mlpackage")
SHIFTED = "teacher_shifted"
BLURRED = "teacher_blurred"
PHOTO = "photo"
GRID_PHOTOS = 8


def frame_size() -> tuple[int, int]:
    return tuple(FRAME_SIZE)


def to_uint8(image: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(image), 0, 255).astype(np.uint8)


def area_downscale(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """uint8 frame to `size` (width, height) by area averaging."""
    if (image.shape[1], image.shape[0]) == tuple(size):
        return image
    return to_uint8(cv2.resize(image.astype(np.float32), tuple(size), interpolation=cv2.INTER_AREA))


def bilinear_upsample(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """uint8 frame to `size` (width, height), bilinear with half-pixel centres (like tf.image.resize)."""
    return to_uint8(cv2.resize(image.astype(np.float32), tuple(size), interpolation=cv2.INTER_LINEAR))


def display_round_trip(image: np.ndarray, display: tuple[int, int]) -> np.ndarray:
    """A model-size frame as an exported model shows it (`display` size), brought back by area averaging."""
    size = (image.shape[1], image.shape[0])
    if tuple(display) == size:
        return image
    return area_downscale(bilinear_upsample(image, display), size)


def keras_runner(model, pad: int = 0) -> Callable[[np.ndarray], np.ndarray]:
    """Frame -> uint8 frame; with `pad`, the model sees the frame reflect-padded and its output is cropped back."""
    def run(image: np.ndarray) -> np.ndarray:
        return stylize_frames(model, image[None], pad=pad)[0]

    return run


@dataclass
class Student:
    """A net under test: `run` maps a frame to the frame that is compared (same size)."""

    label: str
    source: str
    kind: str
    about: str
    run: Callable[[np.ndarray], np.ndarray]
    display: tuple[int, int] | None = None  # an exported model's output size, when it differs from its input


@dataclass
class Teacher:
    label: str
    source: str
    about: str
    run: Callable[[np.ndarray], np.ndarray]
    pad: int = 0  # reflect padding (px) the teacher runs with; 0: its raw frame


def describe_path(path: Path) -> str:
    """`path` relative to the working folder when it lies inside it, else only its name."""
    path = Path(path)
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix() or "."
    except ValueError:
        return path.resolve().name


def checkpoint_student(checkpoint: Checkpoint, label: str, source: str, size: tuple[int, int] | None = None) -> Student:
    width, height = size or frame_size()
    model = checkpoint.build_model(height, width)
    return Student(label, source, "checkpoint", str(checkpoint.arch), keras_runner(model))


def load_student(path: Path, backend: str = "auto", size: tuple[int, int] | None = None,
                 label: str | None = None) -> Student:
    """A student from a checkpoint (.npz) or an exported model (.mlmodel / .mlpackage)."""
    path = Path(path)
    size = size or frame_size()
    suffix = path.suffix.lower()
    if suffix not in MODEL_SUFFIXES:
        raise UserError(f"--model {path}: expected a checkpoint (.npz) or an exported .mlmodel / .mlpackage")
    label = label or path.name
    if suffix == ".npz":
        return checkpoint_student(load_checkpoint(path), label, describe_path(path), size)
    from mobilestyle.runner import ModelRunner

    runner = ModelRunner(path, backend=backend)
    if tuple(runner.input_size) != tuple(size):
        raise UserError(f"{path} takes {runner.input_size[0]}x{runner.input_size[1]} frames; "
                        f"evaluate compares at {size[0]}x{size[1]}")
    display = tuple(runner.output_size)

    def run(image: np.ndarray) -> np.ndarray:
        return area_downscale(runner.run(image), size)

    about = f"{runner.backend} runner, output {display[0]}x{display[1]} area-downscaled to {size[0]}x{size[1]}"
    return Student(label, describe_path(path), suffix.removeprefix("."), about, run,
                   None if display == tuple(size) else display)


def style_student(name: str, size: tuple[int, int] | None = None) -> tuple[Student, str | None]:
    """A named style's checkpoint as a student, and the teacher its metadata names (None if it names none)."""
    from mobilestyle.styles import find_style

    style = find_style(name)
    student = checkpoint_student(load_checkpoint(style.checkpoint), name,
                                 f"style {name} ({describe_path(style.checkpoint)})", size)
    teacher = style.info.get("teacher")
    return student, str(teacher) if teacher else None


def load_teacher_net(path: Path, size: tuple[int, int] | None = None, pad: int = 0) -> Teacher:
    """The teacher as a frame -> frame function, run on the frame reflect-padded by `pad` px (0: as it is).

    Its label: the teacher its metadata names (a path there made portable), else its style, else the file's name.
    """
    width, height = size or frame_size()
    if pad < 0 or pad >= min(width, height):
        raise UserError(f"--teacher-pad must be between 0 and {min(width, height) - 1} px, got {pad}")
    checkpoint = load_teacher(Path(path))
    label = portable_path(str(checkpoint.meta.get("teacher") or checkpoint.meta.get("style") or Path(path).name))
    return Teacher(label, describe_path(path), str(checkpoint.arch),
                   keras_runner(checkpoint.build_model(height + 2 * pad, width + 2 * pad), pad), pad)


def unique_labels(students: list[Student]) -> None:
    """Make labels unique in place (a second `x.npz` becomes `x.npz#2`)."""
    seen: dict[str, int] = {}
    for student in students:
        seen[student.label] = seen.get(student.label, 0) + 1
        if seen[student.label] > 1:
            student.label = f"{student.label}#{seen[student.label]}"


@dataclass
class PhotoResult:
    photo: str
    students: dict[str, Scores]
    calibration: dict[str, Scores]


@dataclass
class GridRow:
    """The frames of one photo shown in the grid (all at the compared size)."""

    photo: np.ndarray
    teacher: np.ndarray
    students: dict[str, np.ndarray]


@dataclass
class Evaluation:
    size: tuple[int, int]
    students: list[Student]
    teacher: Teacher
    results: list[PhotoResult]
    grid: list[GridRow] = field(default_factory=list)
    seconds: float = 0.0

    def student_means(self) -> dict[str, dict]:
        return {student.label: mean_scores([result.students[student.label] for result in self.results])
                for student in self.students}

    def calibration_means(self) -> dict[str, dict]:
        return {row: mean_scores([result.calibration[row] for result in self.results])
                for row in (SHIFTED, BLURRED, PHOTO)}


def calibration_scores(teacher: Teacher, photo: np.ndarray, teacher_frame: np.ndarray,
                       network: LossNetwork | None, teacher_grams: dict | None) -> dict[str, Scores]:
    """The teacher against itself (input shifted; frame blurred) and the raw photo against the teacher."""
    shifted = unshift_frame(teacher.run(shift_frame(photo, CALIBRATION_SHIFT)), CALIBRATION_SHIFT)
    blurred = to_uint8(blur(teacher_frame, CALIBRATION_BLUR_SIGMA))
    # The shifted row compares interiors: their outer bands are not the frame's borders, so no border figures.
    shifted_scores = replace(score(interior(teacher_frame), interior(shifted), network), border=None,
                             reference_border=None)
    return {
        SHIFTED: shifted_scores,
        BLURRED: score(teacher_frame, blurred, network, teacher_grams),
        PHOTO: score(teacher_frame, photo, network, teacher_grams),
    }


def evaluate(students: list[Student], teacher: Teacher, frames: np.ndarray, names: list[str],
             network: LossNetwork | None, progress: Progress | None = None,
             grid_photos: int = GRID_PHOTOS) -> Evaluation:
    """Score every student against the teacher on each frame (uint8, count x H x W x 3), with calibration rows.

    `names` describe the photos in the results; `network` None leaves out the texture measure.
    """
    if not students:
        raise UserError("give at least one student: --model FILE or --style NAME")
    if len(frames) == 0:
        raise UserError("no photos to evaluate on")
    size = (frames.shape[2], frames.shape[1])
    shown = set(evenly_spaced(list(range(len(frames))), grid_photos))
    started = time.perf_counter()
    task = progress.add_task("evaluating", total=len(frames)) if progress is not None else None
    results, grid = [], []
    for index, (photo, name) in enumerate(zip(frames, names)):
        teacher_frame = teacher.run(photo)
        teacher_grams = grams(network, teacher_frame) if network is not None else None
        # The frame each student is compared with, by its display size (None: the teacher's frame as it is).
        references: dict[tuple[int, int] | None, tuple[np.ndarray, dict | None]] = {
            None: (teacher_frame, teacher_grams)}
        row_scores, row_frames = {}, {}
        for student in students:
            if student.display not in references:
                reference = display_round_trip(teacher_frame, student.display)
                references[student.display] = (reference, grams(network, reference) if network is not None else None)
            reference, reference_grams = references[student.display]
            produced = student.run(photo)
            row_scores[student.label] = score(reference, produced, network, reference_grams)
            row_frames[student.label] = produced
        results.append(PhotoResult(name, row_scores, calibration_scores(teacher, photo, teacher_frame, network,
                                                                        teacher_grams)))
        if index in shown:
            grid.append(GridRow(photo, teacher_frame, row_frames))
        if task is not None:
            progress.advance(task)
    return Evaluation(size, students, teacher, results, grid, round(time.perf_counter() - started, 1))
