"""`mobilestyle evaluate`: students against their teacher on photos, with calibration rows."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from mobilestyle.cli.app import app
from mobilestyle.cli.console import console



@app.command()
def evaluate(
    model: Annotated[Optional[list[Path]], typer.Option(
        "--model", help="A student: checkpoint (.npz) or exported .mlmodel / .mlpackage; repeat for several.")] = None,
    style: Annotated[Optional[list[str]], typer.Option(
        "--style", help="A named style's student (see `mobilestyle styles`); repeatable.")] = None,
    teacher: Annotated[Optional[Path], typer.Option(
        "--teacher", help="The teacher: an ml5 folder, a pytorch/examples .pth or a .npz checkpoint.")] = None,
    photos: Annotated[Optional[list[Path]], typer.Option(
        "--photos", help="A folder of photos; repeatable.")] = None,
    count: Annotated[int, typer.Option(help="Photos, evenly spaced over the folders (0: all).")] = 30,
    vgg_weights: Annotated[Optional[Path], typer.Option(
        help="VGG19 weights for the texture measure (relu1_2/relu2_2/relu3_4): a .npz or Keras .h5, e.g. the "
             "partial VGG19 to block3_conv4; default: Keras' ImageNet VGG19, downloaded on first use.")] = None,
    out: Annotated[Path, typer.Option("--out", help="Folder for report.json and grid.png.")] = Path("evaluation"),
    backend: Annotated[str, typer.Option(help="Runner for exported models: auto, openvino or onnxruntime.")] = "auto",
    teacher_pad: Annotated[int, typer.Option(
        help="Run the teacher on the frame reflect-padded by this many px and crop back, as distill makes its "
             "targets (no zero-padding bands along the edges); 0: the teacher's raw frame.")] = 32,
) -> None:
    """Measure students against their teacher at 853x480: structure, texture, detail, borders, PSNR, SSIM.

    Beside the students the table shows calibration rows: the teacher against itself on a 2-px-shifted
    input, and a sigma-2 blur of the teacher's frame; the photo itself is a row for context. Writes
    OUT/report.json and OUT/grid.png (photo | teacher | students, then 100% crops).
    """
    from mobilestyle.errors import UserError
    from mobilestyle.evaluation import report as reporting
    from mobilestyle.progress import eta_progress
    from mobilestyle.evaluation.evaluate import (describe_path, evaluate as run_evaluation, frame_size,
                                                 load_student, load_teacher_net, style_student, unique_labels)
    from mobilestyle.training.frames import evenly_spaced, list_photos, load_frames
    from mobilestyle.training.vgg import TEXTURE_LAYERS, load_loss_network

    model, style, photos = model or [], style or [], photos or []
    if not model and not style:
        raise UserError("give at least one student: --model FILE (.npz, .mlmodel, .mlpackage) or --style NAME")
    if not photos:
        raise UserError("give --photos DIR (a folder of photos; repeatable)")
    if count < 0:
        raise UserError(f"--count must be 0 (all) or more, got {count}")
    paths = evenly_spaced(list_photos(photos), count)
    reporting.check_out_dir(out)
    size = frame_size()

    students, named_teachers = [], {}
    for name in style:
        student, named = style_student(name, size)
        students.append(student)
        named_teachers[name] = named
    if teacher is None:
        hints = "; ".join(f"style {name} names its teacher: {named}" for name, named in named_teachers.items() if named)
        raise UserError(f"give --teacher (an ml5 folder, .pth or .npz){'; ' + hints if hints else ''}")
    for name, named in named_teachers.items():
        if named and teacher.resolve().stem not in named:
            console.print(f"[yellow]note:[/] style {name} names its teacher {named!r}; --teacher is {teacher.name}")
    teacher_net = load_teacher_net(teacher, size, teacher_pad)
    students += [load_student(path, backend, size) for path in model]
    unique_labels(students)
    frames = load_frames(paths, *size)
    network = load_loss_network(vgg_weights, TEXTURE_LAYERS)
    padding = f"reflect-padded by {teacher_pad} px" if teacher_pad else "raw frames"
    console.print(f"teacher {teacher_net.label} ({padding}); {len(students)} student(s); {len(paths)} photos at "
                  f"{size[0]}x{size[1]}; texture by {network.describe()}")

    with eta_progress(console) as progress:
        evaluation = run_evaluation(students, teacher_net, frames, [describe_path(p) for p in paths],
                                    network, progress)
    report = reporting.build_report(evaluation, photos, network)
    report_path, grid_path = reporting.write_outputs(out, report, reporting.render_grid(evaluation))

    table = Table(title=f"students vs teacher {teacher_net.label}, mean of {len(paths)} photos at {size[0]}x{size[1]}",
                  title_justify="left")
    table.add_column("row")
    for column in reporting.SUMMARY_COLUMNS:
        table.add_column(column, justify="right")
    rows = reporting.summary_rows(report)
    for index, (title, cells) in enumerate(rows):
        if index == len(students):
            table.add_section()
        table.add_row(title, *cells)
    console.print(table)
    console.print(reporting.SUMMARY_NOTE, highlight=False)
    console.print(f"wrote {report_path} and {grid_path} ({evaluation.seconds} s)")
