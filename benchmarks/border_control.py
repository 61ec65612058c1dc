"""Are there bands along the frame's edges, or is the border figure the style's own contrast?

`mobilestyle evaluate`'s border figure is the mean colour difference between the frame's outer 8 px and
the next 16 px inward. A busy style differs from strip to strip anywhere in the frame, so a student can
score above the photos' figure with no band at all. The control here is the same measure on the frame
cropped by 64 px on every side, where no edge is: a band shows as the edge figure above that control.

    python benchmarks/border_control.py --style rain_princess --style udnie [--count 30] [--teacher-pad 32]

For each style: the shipped student (`models/STYLE.npz`, Keras, fp16 weights), its ml5 teacher run as
distill runs it (reflect-padded by --teacher-pad px) and raw, and the photos (BSDS500 test, evenly
spaced, the 16:9 centre crop at 853x480, as `models/ship_style.py` measures).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from mobilestyle.errors import UserError
from mobilestyle.evaluation.evaluate import frame_size, keras_runner, load_teacher_net
from mobilestyle.files import atomic_path, ensure_writable_dir
from mobilestyle.networks.checkpoint import load_checkpoint
from mobilestyle.styles import teacher_folder
from mobilestyle.training.frames import evenly_spaced, list_photos, load_frames
from mobilestyle.training.quality import border_departure
from mobilestyle.training.targets import TEACHER_PAD

REPO = Path(__file__).resolve().parents[1]
TEACHERS = REPO.parent / "shared" / "data" / "teachers" / "ml5"
PHOTOS = REPO.parent / "shared" / "data" / "content" / "bsds500" / "test"
CONTROL_INSET = 64


def edge_and_control(frames: list[np.ndarray]) -> tuple[float, float]:
    """Mean border departure at the frame's edge, and the same 64 px inside (the style's own contrast)."""
    edge = np.mean([border_departure(frame) for frame in frames])
    inset = CONTROL_INSET
    control = np.mean([border_departure(frame[inset:-inset, inset:-inset]) for frame in frames])
    return float(edge), float(control)


def student_and_teacher(style: str) -> tuple[Path, Path]:
    """The shipped student and the ml5 teacher folder of a --style, checked before anything is measured."""
    student, teacher = REPO / "models" / f"{style}.npz", TEACHERS / teacher_folder(style)
    for path in (student, teacher):
        if not path.exists():
            raise UserError(f"style {style}: {path} does not exist")
    return student, teacher


def measure(student_path: Path, teacher_path: Path, photos: np.ndarray,
            teacher_pad: int) -> dict[str, tuple[float, float]]:
    student = keras_runner(load_checkpoint(student_path).build_model(*photos.shape[1:3]))
    padded = load_teacher_net(teacher_path, pad=teacher_pad).run
    raw = load_teacher_net(teacher_path, pad=0).run
    return {"student": edge_and_control([student(photo) for photo in photos]),
            f"teacher (reflect pad {teacher_pad})": edge_and_control([padded(photo) for photo in photos]),
            "teacher (raw)": edge_and_control([raw(photo) for photo in photos])}


def run(args: argparse.Namespace) -> None:
    pairs = {style: student_and_teacher(style) for style in args.style}
    if args.json:
        ensure_writable_dir(args.json.parent)
    width, height = frame_size()
    photos = load_frames(evenly_spaced(list_photos([PHOTOS]), args.count), width, height)
    rows = {"photos": edge_and_control(list(photos))}
    for style, (student, teacher) in pairs.items():
        rows.update({f"{style}: {label}": figures
                     for label, figures in measure(student, teacher, photos, args.teacher_pad).items()})
    table = Table(title=f"border departure on {len(photos)} BSDS500 test frames at {width}x{height}")
    for column in ("frames", "at the edge", f"{CONTROL_INSET} px inside", "edge - inside"):
        table.add_column(column, justify="left" if column == "frames" else "right")
    for label, (edge, control) in rows.items():
        table.add_row(label, f"{edge:.2f}", f"{control:.2f}", f"{edge - control:+.2f}")
    Console().print(table)
    if args.json:
        result = {"frames": len(photos), "size": f"{width}x{height}", "control_inset_px": CONTROL_INSET,
                  "rows": {label: {"edge": round(edge, 3), "inside": round(control, 3)}
                           for label, (edge, control) in rows.items()}}
        with atomic_path(args.json) as tmp:
            tmp.write_text(json.dumps(result, indent=1) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--style", action="append", required=True, help="a shipped style (repeatable)")
    parser.add_argument("--count", type=int, default=30, help="photos, evenly spaced over the test split (0: all)")
    parser.add_argument("--teacher-pad", type=int, default=TEACHER_PAD,
                        help=f"reflect padding of the teacher's input in px (default: distill's, {TEACHER_PAD})")
    parser.add_argument("--json", type=Path, help="write the figures here")
    try:
        run(parser.parse_args())
    except UserError as exc:
        raise SystemExit(f"error: {exc}") from None


if __name__ == "__main__":
    main()
