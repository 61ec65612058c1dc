"""Flicker: the warping error of a teacher and its students on a stretch of video (mobilestyle.flicker).

Optical flow (OpenCV DIS) is computed on the input frames; each net's stylized frame t+1 is warped
back onto frame t and compared with frame t over the pixels that pass the forward-backward check. The
input's own warping error is the floor. `--damper W` adds rows for each student's frames passed
through `mobilestyle.flicker.FlowDamper(W)`, with the damper's cost: PSNR of the damped frames against
the undamped ones (how far the damper departs from what the net drew). The damper is driven by the
same DIS flow the measure uses, so part of its gain is by construction; read its rows with that in mind.

With a teacher, every row also gets its detail ratio (mean |I - blur_1.5(I)| over the teacher's, as in
`mobilestyle evaluate`), and `--teacher-blur SIGMA` adds rows for the teacher's own frames blurred by
SIGMA: what blur alone buys in warping error at each level of detail. Each student row then gets "x steadier
than blur" ("steadier_than_blur" in the JSON): the warping error of the teacher blurred to the student's
detail ratio (linear along the blurred rows and the teacher at 1.0) over the student's; "≥ X" for a student
sharper than its teacher (the teacher's warping error over its own, "steadier_than_blur_at_least": a lower
bound), empty for one blurrier than the blurriest row (`mobilestyle.evaluation.clip_flicker`). `--plot PNG` draws
warping error against detail ratio, the blurred teachers as a curve and each net as a point; a student
below that curve is steadier than a blur that keeps as much detail. `benchmarks/flicker_styles.py` does
the same for every shipped style's teacher and student.

Usage:
    python benchmarks/flicker.py --video ../shared/data/video/slow_traffic_small.mp4 --frames 40 \\
        --teacher ../shared/data/teachers/ml5/la_muse --style muse --damper 0.5 --json benchmarks/flicker.json
    python benchmarks/flicker.py --video ../shared/data/video/faces.mp4 --frames 30 \\
        --teacher ../shared/data/teachers/ml5/la_muse --teacher-blur 0.75 --teacher-blur 1.5 --style muse \\
        --plot benchmarks/flicker_detail.png
    python benchmarks/flicker.py --video ../shared/data/video/faces.mp4 --frames 30 \\
        --teacher ../shared/data/teachers/ml5/la_muse --model models/muse.npz --model STABLE/muse_w1000.npz \\
        --label "muse.npz=models/muse.npz as shipped" --quality-from muse.npz=models/muse.json \\
        --label "muse_w1000.npz=+ 20 min at --stability-weight 1000" \\
        --quality-from muse_w1000.npz=STABLE/muse_w1000.distill/report.json --json benchmarks/flicker_stability.json

The JSON names the video by its file name; a teacher's label that is a path (a checkpoint's recorded
teacher) is made portable (`mobilestyle.portable_paths`, against the repository root).

`--label FILE_NAME=TEXT` and `--quality-from FILE_NAME=REPORT.json` (each repeatable) annotate a `--model`
row, named by its file name (`muse.npz` for the row `student muse.npz`): the JSON's "labels" holds the
text, its "quality" the figures (structure PSNR, Gram distance, detail ratio, border, PSNR, SSIM) copied
from a distillation report's final "eval" or a shipped style's metadata "quality" (models/NAME.json),
and "quality_source" the report each came from, as a portable path. Reports are read before anything
runs: a bad one stops the script with one line and nothing written.
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
from mobilestyle.files import atomic_path
from mobilestyle.evaluation.clip_flicker import Net, floor_row, measure_clip, read_frames, steadier_text
from mobilestyle.evaluation.evaluate import frame_size, load_student, load_teacher_net, style_student
from mobilestyle.flicker import FlowDamper, PairFlow, clip_flows, warping_error
from mobilestyle.labelled import labelled_values
from mobilestyle.portable_paths import portable_path
from mobilestyle.progress import eta_progress

REPO = Path(__file__).resolve().parents[1]
QUALITY_FIGURES = ("structure_psnr", "gram_distance", "detail_ratio", "border", "psnr", "ssim")
console = Console()


def check_model_names(option: str, names, models: list[Path]) -> None:
    """Each name must be the file name of exactly one --model."""
    model_names = [path.name for path in models]
    for name in names:
        count = model_names.count(name)
        if count == 0:
            raise UserError(f"{option} {name}: no --model has that file name")
        if count > 1:
            raise UserError(f"{option} {name}: {count} --model paths have that file name; give them distinct names")


def quality_figures(report: Path) -> dict:
    """The quality figures of a distillation report's final "eval" or a shipped style's "quality"."""
    try:
        content = json.loads(report.read_text())
    except (OSError, ValueError) as error:
        raise UserError(f"cannot read {report}: {error}") from None
    section = content.get("eval", content.get("quality")) if isinstance(content, dict) else None
    if not isinstance(section, dict):
        raise UserError(f"{report} has no \"eval\" (a distillation report) or \"quality\" (a style's metadata)")
    missing = [key for key in QUALITY_FIGURES if section.get(key) is None]
    if missing:
        raise UserError(f"{report} lacks {', '.join(missing)}")
    return {key: section[key] for key in QUALITY_FIGURES}


def model_notes(models: list[Path], label_words: list[str], quality_words: list[str]) -> dict:
    """The JSON's "labels", "quality" and "quality_source" for the --model rows; empty sections left out."""
    labels = labelled_values("--label", label_words, "FILE_NAME=TEXT")
    reports = {name: Path(path) for name, path in labelled_values("--quality-from", quality_words, "FILE_NAME=REPORT.json").items()}
    check_model_names("--label", labels, models)
    check_model_names("--quality-from", reports, models)
    notes = {"labels": labels,
             "quality": {name: quality_figures(report) for name, report in reports.items()},
             "quality_source": {name: portable_path(report.absolute(), REPO) for name, report in reports.items()}}
    return {key: value for key, value in notes.items() if value}


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else float(10 * np.log10(255.0 ** 2 / mse))


def damper_rows(label: str, frames: list[np.ndarray], outputs: list[np.ndarray], flows: list[PairFlow],
                weights: list[float]) -> list[dict]:
    """A row per FlowDamper weight for a student's frames, with the PSNR of the damped frames against its own."""
    rows = []
    for weight in weights:
        damper = FlowDamper(weight)
        damped = [damper(image, output) for image, output in zip(frames, outputs)]
        score = warping_error(damped, flows)
        rows.append({"row": f"{label} + FlowDamper({weight:g})", "warping_error": score.mean,
                     "rms_grey": score.rms_grey_levels,
                     "psnr_vs_undamped_db": float(np.mean([psnr(a, b) for a, b in zip(outputs[1:], damped[1:])]))})
    return rows


def optional(row: dict, key: str, form: str) -> str:
    """A table cell: the row's `key` formatted, or empty where the row has none."""
    return form.format(row[key]) if key in row else ""


def plot_detail(rows: list[dict], floor: float, video: str, path: Path) -> None:
    """Warping error against detail ratio: the blurred teachers as a curve, every net as a labelled point."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(7, 4.5), dpi=120)
    curve = sorted((row["detail_ratio"], 1000 * row["warping_error"]) for row in rows
                   if row.get("kind") in ("blurred teacher", "teacher"))
    axes.plot(*zip(*curve), "o--", color="grey", label="teacher, unblurred and blurred")
    for row in rows:
        if row.get("kind") == "student":
            axes.plot(row["detail_ratio"], 1000 * row["warping_error"], "o", markersize=8)
            axes.annotate(row["row"], (row["detail_ratio"], 1000 * row["warping_error"]),
                          textcoords="offset points", xytext=(6, -4), fontsize=8)
    axes.axhline(1000 * floor, color="black", linewidth=0.8, label="input (floor)")
    axes.set_xlabel("detail ratio (student over teacher; 1 = as much fine detail)")
    axes.set_ylabel("warping error (x1e-3)")
    axes.set_title(f"Flicker against detail, {video}")
    axes.legend(loc="upper left", fontsize=8)
    axes.grid(alpha=0.3)
    figure.tight_layout()
    with atomic_path(path) as tmp:
        figure.savefig(tmp, format="png")
    plt.close(figure)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--video", type=Path, required=True)
    parser.add_argument("--start", type=int, default=0, help="first frame")
    parser.add_argument("--frames", type=int, default=40, help="frames measured (pairs: one fewer)")
    parser.add_argument("--stride", type=int, default=1, help="take every Nth frame (2: a 30 fps clip at 15 fps)")
    parser.add_argument("--teacher", type=Path, help="ml5 folder, .pth or .npz")
    parser.add_argument("--style", action="append", default=[], help="a named style's student; repeatable")
    parser.add_argument("--model", type=Path, action="append", default=[],
                        help="a student .npz / .mlmodel / .mlpackage; repeatable")
    parser.add_argument("--damper", type=float, action="append", default=[],
                        help="FlowDamper weight of the new frame for extra rows (e.g. 0.5); repeatable")
    parser.add_argument("--teacher-blur", type=float, action="append", default=[],
                        help="add a row for the teacher's frames blurred by this sigma (px); repeatable")
    parser.add_argument("--label", action="append", default=[], metavar="FILE_NAME=TEXT",
                        help="a description of the --model row of that file name, for the JSON; repeatable")
    parser.add_argument("--quality-from", action="append", default=[], metavar="FILE_NAME=REPORT.json",
                        help="copy that --model's quality figures from a distillation report or models/NAME.json; "
                             "repeatable")
    parser.add_argument("--backend", default="auto")
    parser.add_argument("--json", type=Path, help="write the figures here too")
    parser.add_argument("--plot", type=Path, help="warping error against detail ratio, as a PNG")
    args = parser.parse_args()
    notes = model_notes(args.model, args.label, args.quality_from)

    if args.teacher is None and not (args.style or args.model):
        raise SystemExit("give --teacher and/or --style / --model")
    if (args.teacher_blur or args.plot) and args.teacher is None:
        raise SystemExit("--teacher-blur and --plot need --teacher")
    size = frame_size()
    teacher = None
    if args.teacher is not None:
        teacher_net = load_teacher_net(args.teacher, size)
        teacher = Net(f"teacher {portable_path(teacher_net.label, REPO)}", teacher_net.run)
    students = [Net(f"student {name}", style_student(name, size)[0].run) for name in args.style]
    students += [Net(f"student {path.name}", load_student(path, args.backend, size).run) for path in args.model]

    frames = read_frames(args.video, args.start, args.frames, args.stride, size)
    started = time.perf_counter()
    with eta_progress(console) as progress:
        task = progress.add_task("optical flow", total=1)
        flows = clip_flows(frames)
        progress.advance(task)
        coverage = float(np.mean([flow.coverage for flow in flows]))
        rows = [floor_row(frames, flows)]
        rows += measure_clip(frames, flows, teacher, students, args.teacher_blur, progress,
                             lambda label, outputs: damper_rows(label, frames, outputs, flows, args.damper))
    floor = rows[0]["warping_error"]
    seconds = time.perf_counter() - started

    print(f"\n{args.video.name}: frames {args.start}..{args.start + (len(frames) - 1) * args.stride} "
          f"(every {args.stride}), {len(frames) - 1} pairs at {size[0]}x{size[1]}; DIS flow (medium) on the input, "
          f"{100 * coverage:.1f}% of pixels pass the forward-backward check; {seconds:.0f} s on "
          f"{platform.machine()}\n")
    print("| frames | warping error (x1e-3) | RMS (grey levels) | x floor | detail ratio | x steadier than blur "
          "| PSNR vs undamped |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        ratio = row["warping_error"] / floor
        print(f"| {row['row']} | {1000 * row['warping_error']:.3f} | {row['rms_grey']:.2f} | {ratio:.2f} "
              f"| {optional(row, 'detail_ratio', '{:.2f}')} | {steadier_text(row)} "
              f"| {optional(row, 'psnr_vs_undamped_db', '{:.2f} dB')} |")
    if args.plot is not None:
        plot_detail(rows, floor, args.video.name, args.plot)
    if args.json is not None:
        with atomic_path(args.json) as tmp:
            tmp.write_text(json.dumps({"video": args.video.name, "start": args.start, "frames": len(frames),
                                       "stride": args.stride, "size": list(size), "mask_coverage": coverage,
                                       "seconds": round(seconds, 1), "rows": rows, **notes}, indent=2) + "\n")


if __name__ == "__main__":
    try:
        main()
    except UserError as error:
        raise SystemExit(str(error)) from None
