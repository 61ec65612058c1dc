"""Flicker per style: the warping error of each shipped style's teacher and student on one clip (issue 18).

For every style named (default: all six shipped styles), its ml5 teacher (run raw, as benchmarks/flicker.py
runs it), that teacher's frames blurred by each `--teacher-blur` sigma, and its shipped student
(`models/STYLE.npz`) are run on the same frames and scored along the same optical flow, computed once on
the input (`mobilestyle.evaluation.clip_flicker`, the rows of benchmarks/flicker.py). Per style the table
gives the teacher's and the student's warping error, their ratio, the student's detail ratio (against its
own teacher) and "x steadier than blur": the warping error of the teacher blurred to the student's detail
(linear along the blurred rows and the teacher at 1.0) over the student's. A student sharper than its
teacher gets "≥ X", the teacher's warping error over its own (a lower bound: no blur keeps more detail than
the teacher); one blurrier than the blurriest row gets no figure ("outside the blur curve"): widen the
curve with more `--teacher-blur`.

Usage:
    python benchmarks/flicker_styles.py --video ../shared/data/video/faces.mp4 --frames 30 \\
        --json benchmarks/flicker_styles.json --plot benchmarks/flicker_styles.png
    python benchmarks/flicker_styles.py --video ../shared/data/video/faces.mp4 --frames 30 --style muse \\
        --style wave --teacher-blur 0.5 --teacher-blur 1 --teacher-blur 2

Teachers are looked up as `--teachers DIR/<teacher folder>` (la_muse for muse, the style's own name for the
others; `mobilestyle.styles.TEACHER_FOLDERS`). An unknown style, a missing teacher folder or an unreadable
video stops the script with one line before anything is run, and nothing is written. The JSON holds
portable paths only (`mobilestyle.portable_paths`): the video by its file name, the teachers and students
as seen from the repository root.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np
from rich.console import Console

from mobilestyle.errors import UserError
from mobilestyle.evaluation.clip_flicker import (STUDENT, TEACHER, Net, blur_curve, floor_row, measure_clip,
                                                 read_frames, steadier_text)
from mobilestyle.evaluation.evaluate import frame_size, load_teacher_net, style_student
from mobilestyle.files import atomic_path, ensure_writable_dir
from mobilestyle.flicker import clip_flows
from mobilestyle.portable_paths import portable, portable_path
from mobilestyle.progress import eta_progress
from mobilestyle.styles import TEACHER_FOLDERS, find_style, teacher_folder

REPO = Path(__file__).resolve().parents[1]
TEACHERS = REPO.parent / "shared" / "data" / "teachers" / "ml5"
DEFAULT_BLURS = (0.5, 0.75, 1.0)
OUTSIDE_CURVE = "outside the blur curve"
console = Console()


def style_sources(styles: list[str], teachers: Path) -> dict[str, tuple[Path, Path]]:
    """Each style's teacher folder and student checkpoint, checked before anything is run."""
    sources = {}
    for style in styles:
        teacher = teachers / teacher_folder(style)
        if not teacher.is_dir():
            raise UserError(f"style {style}: no teacher folder {teacher}")
        sources[style] = (teacher, find_style(style).checkpoint)
    return sources


def check_numbers(args: argparse.Namespace) -> None:
    bad_blurs = [sigma for sigma in args.teacher_blur if not sigma > 0]
    if bad_blurs:
        raise UserError(f"--teacher-blur must be above 0 px, got {bad_blurs[0]:g}")
    if args.start < 0 or args.stride < 1 or args.frames < 2:
        raise UserError("--start must be at least 0, --stride at least 1 and --frames at least 2")


def style_teacher(folder: Path, size: tuple[int, int]) -> Net:
    teacher = load_teacher_net(folder, size)
    return Net(f"teacher {portable_path(teacher.label, REPO)}", teacher.run)


def shipped_student(style: str, size: tuple[int, int]) -> Net:
    return Net(f"student {style}", style_student(style, size)[0].run)


def style_summary(style: str, teacher: Path, student: Path, rows: list[dict]) -> dict:
    """A style's figures for the table and the JSON, its rows kept beside them."""
    teacher_row = next(row for row in rows if row.get("kind") == TEACHER)
    student_row = next(row for row in rows if row.get("kind") == STUDENT)
    summary = {"style": style, "teacher": portable_path(teacher.absolute(), REPO),
               "student": portable_path(student.absolute(), REPO),
               "teacher_warping_error": teacher_row["warping_error"],
               "student_warping_error": student_row["warping_error"],
               "student_over_teacher": student_row["warping_error"] / teacher_row["warping_error"],
               "student_detail_ratio": student_row["detail_ratio"]}
    for key in ("steadier_than_blur", "steadier_than_blur_at_least"):
        if key in student_row:
            summary[key] = student_row[key]
    return {**summary, "rows": rows}


def table_lines(summaries: list[dict]) -> list[str]:
    lines = ["| style | teacher warping error (x1e-3) | student warping error (x1e-3) | student / teacher "
             "| student detail ratio | x steadier than blur |",
             "|---|---:|---:|---:|---:|---:|"]
    for summary in summaries:
        lines.append(f"| {summary['style']} | {1000 * summary['teacher_warping_error']:.3f} "
                     f"| {1000 * summary['student_warping_error']:.3f} | {summary['student_over_teacher']:.2f} "
                     f"| {summary['student_detail_ratio']:.2f} "
                     f"| {steadier_text(summary, OUTSIDE_CURVE)} |")
    return lines


def plot_styles(summaries: list[dict], floor: float, video: str, path: Path) -> None:
    """One panel per style: warping error against detail ratio, the blur curve and the student's point."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    columns = min(3, len(summaries))
    rows = -(-len(summaries) // columns)
    figure, axes = plt.subplots(rows, columns, figsize=(4.2 * columns, 3.4 * rows), dpi=120, squeeze=False)
    for panel, summary in zip(axes.flat, summaries):
        curve = blur_curve(summary["rows"])
        panel.plot(*zip(*[(detail, 1000 * error) for detail, error in curve]), "o--", color="grey",
                   label="teacher, unblurred and blurred")
        student = (summary["student_detail_ratio"], 1000 * summary["student_warping_error"])
        panel.plot(*student, "o", color="tab:red", markersize=8, label="shipped student")
        steadier = steadier_text(summary)
        panel.axhline(1000 * floor, color="black", linewidth=0.8, label="input (floor)")
        panel.set_title(f"{summary['style']}: student "
                        f"{f'{steadier}x steadier than blur' if steadier else OUTSIDE_CURVE}", fontsize=10)
        panel.set_ylim(bottom=0)
        panel.set_xlabel("detail ratio (over the teacher's)")
        panel.set_ylabel("warping error (x1e-3)")
        panel.grid(alpha=0.3)
    for panel in list(axes.flat)[len(summaries):]:
        panel.axis("off")
    axes.flat[0].legend(loc="upper left", fontsize=7)
    figure.suptitle(f"Flicker against detail per style, {video}")
    figure.tight_layout()
    with atomic_path(path) as tmp:
        figure.savefig(tmp, format="png")
    plt.close(figure)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--video", type=Path, required=True)
    parser.add_argument("--start", type=int, default=0, help="first frame")
    parser.add_argument("--frames", type=int, default=30, help="frames measured (pairs: one fewer)")
    parser.add_argument("--stride", type=int, default=1, help="take every Nth frame (2: a 30 fps clip at 15 fps)")
    parser.add_argument("--style", action="append", metavar="STYLE",
                        help=f"a shipped style; repeatable (default: all of {', '.join(TEACHER_FOLDERS)})")
    parser.add_argument("--teacher-blur", type=float, action="append", metavar="SIGMA",
                        help="blur the teacher's frames by this sigma (px) for the blur curve; repeatable "
                             f"(default: {', '.join(f'{sigma:g}' for sigma in DEFAULT_BLURS)})")
    parser.add_argument("--teachers", type=Path, default=TEACHERS, help="folder of the ml5 teacher folders")
    parser.add_argument("--json", type=Path, help="write the figures here too")
    parser.add_argument("--plot", type=Path, help="per style, warping error against detail ratio, as a PNG")
    args = parser.parse_args(argv)
    args.style = list(dict.fromkeys(args.style or TEACHER_FOLDERS))
    args.teacher_blur = args.teacher_blur or list(DEFAULT_BLURS)
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    check_numbers(args)
    sources = style_sources(args.style, args.teachers)
    size = frame_size()
    frames = read_frames(args.video, args.start, args.frames, args.stride, size)
    for output in (args.json, args.plot):
        if output is not None:
            ensure_writable_dir(output.parent)

    started = time.perf_counter()
    summaries = []
    with eta_progress(console) as progress:
        overall = progress.add_task("styles", total=len(sources))
        task = progress.add_task("optical flow", total=1)
        flows = clip_flows(frames)
        progress.advance(task)
        coverage = float(np.mean([flow.coverage for flow in flows]))
        floor = floor_row(frames, flows)
        for style, (teacher, student) in sources.items():
            rows = measure_clip(frames, flows, style_teacher(teacher, size), [shipped_student(style, size)],
                                args.teacher_blur, progress)
            summaries.append(style_summary(style, teacher, student, rows))
            progress.advance(overall)
    seconds = time.perf_counter() - started

    print(f"\n{args.video.name}: frames {args.start}..{args.start + (len(frames) - 1) * args.stride} "
          f"(every {args.stride}), {len(frames) - 1} pairs at {size[0]}x{size[1]}; DIS flow (medium) on the input, "
          f"{100 * coverage:.1f}% of pixels pass the forward-backward check; input floor "
          f"{1000 * floor['warping_error']:.3f}e-3; teacher blurred by sigma "
          f"{', '.join(f'{sigma:g}' for sigma in args.teacher_blur)} px; {seconds:.0f} s on {platform.machine()}\n")
    print("\n".join(table_lines(summaries)))
    if args.plot is not None:
        plot_styles(summaries, floor["warping_error"], args.video.name, args.plot)
    if args.json is not None:
        document = {"video": args.video.name, "start": args.start, "frames": len(frames), "stride": args.stride,
                    "size": list(size), "mask_coverage": coverage, "seconds": round(seconds, 1),
                    "teacher_blur": args.teacher_blur, "floor": floor, "styles": summaries}
        with atomic_path(args.json) as tmp:
            tmp.write_text(json.dumps(portable(document, REPO), indent=2) + "\n")


if __name__ == "__main__":
    try:
        main()
    except UserError as error:
        raise SystemExit(str(error)) from None
