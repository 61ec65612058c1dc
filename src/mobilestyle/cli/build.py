"""`mobilestyle build`: from a named style to a checked Core ML model in one command, and `styles`."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from mobilestyle.cli.app import app
from mobilestyle.cli.console import console

PARITY_LIMIT = 1.5


def _sample_frame(sample: Path | None):
    from mobilestyle.images import fit_frame, load_frame

    if sample is not None:
        return load_frame(sample), str(sample)
    from skimage import data

    return fit_frame(data.astronaut()), "skimage.data.astronaut()"


def _app_models_dir(ios_app: Path, model_format: str) -> Path:
    from mobilestyle.errors import UserError
    from mobilestyle.files import ensure_writable_dir

    if not (ios_app / "StyleCam.xcodeproj").is_dir():
        raise UserError(f"{ios_app} is not the StyleCam app folder (no StyleCam.xcodeproj in it)")
    if model_format != "neuralnetwork":
        raise UserError("--ios-app takes the neuralnetwork (.mlmodel) format")
    return ensure_writable_dir(ios_app / "StyleCam" / "Models")


def _copy_into(models: Path, paths: list[Path]) -> None:
    from mobilestyle.files import atomic_path

    for path in paths:
        with atomic_path(models / path.name) as tmp:
            shutil.copyfile(path, tmp)


def _train_style(style: str, style_image: Path, content_dir: Path | None, vgg_weights: Path | None, steps: int):
    """Train a style that has no checkpoint yet into the style cache; returns the new catalogue entry."""
    from mobilestyle.styles import cache_dir, find_style
    from mobilestyle.training.perceptual import TrainConfig, train

    console.print(f"no checkpoint for {style!r} yet: training one from {style_image} ({steps} steps)")
    train(TrainConfig(style_image=style_image, content_dir=content_dir, out=cache_dir() / f"{style}.npz",
                      vgg_weights=vgg_weights, steps=steps, style_name=style, strategy="one"), console)
    return find_style(style)


@app.command()
def build(
    style: Annotated[str, typer.Option(help="A named style (see `mobilestyle styles`).")],
    out: Annotated[Path, typer.Option(help="Output folder.")] = Path("out"),
    model_format: Annotated[str, typer.Option("--format", help="neuralnetwork (.mlmodel) or mlprogram (.mlpackage).")] = "neuralnetwork",
    fp16: Annotated[bool, typer.Option("--fp16", help="Store half-precision weights.")] = False,
    sample: Annotated[Optional[Path], typer.Option(help="Photo for the sample image and the parity check "
                                                        "(default: scikit-image's astronaut photo).")] = None,
    ios_app: Annotated[Optional[Path], typer.Option(help="Also copy the model and its contract into this "
                                                         "StyleCam app folder (e.g. ios_app).")] = None,
    backend: Annotated[str, typer.Option(help="Runner backend for the check: auto, openvino, onnxruntime, cuda or tensorrt.")] = "auto",
    style_image: Annotated[Optional[Path], typer.Option(help="A painting: when NAME has no checkpoint yet, train "
                                                             "one from it (perceptual loss) and cache it.")] = None,
    content_dir: Annotated[Optional[Path], typer.Option(help="Content photos for --style-image training.")] = None,
    vgg_weights: Annotated[Optional[Path], typer.Option(help="Loss-network weights for --style-image training.")] = None,
    steps: Annotated[int, typer.Option(help="Training steps for --style-image.")] = 2000,
) -> None:
    """Export a named style, run the exported file on a sample photo, check it against Keras, report.

    With --style-image, a style that has no checkpoint yet is trained first (see `mobilestyle train`)
    and cached, so the next build of the same name starts from the cached checkpoint.
    """
    from mobilestyle.errors import UserError
    from mobilestyle.export.coreml import export_coreml
    from mobilestyle.files import atomic_path, ensure_writable_dir
    from mobilestyle.images import save_png
    from mobilestyle.networks.checkpoint import load_checkpoint
    from mobilestyle.portable_paths import portable
    from mobilestyle.runner import ModelRunner
    from mobilestyle.runner.parity import max_abs_error
    from mobilestyle.styles import available_styles, find_style

    started = time.perf_counter()
    must_train = style_image is not None and style not in available_styles()
    if must_train and content_dir is None:
        raise UserError("--style-image training needs --content-dir (a folder of photos)")
    named = None if must_train else find_style(style)
    app_models = _app_models_dir(ios_app, model_format) if ios_app is not None else None
    ensure_writable_dir(out)
    if must_train:
        named = _train_style(style, style_image, content_dir, vgg_weights, steps)
    rgb, sample_name = _sample_frame(sample)
    checkpoint = load_checkpoint(named.checkpoint)
    with console.status(f"exporting {style} to Core ML ({model_format})..."):
        result = export_coreml(checkpoint, out, style, model_format, fp16)
    with console.status("running the exported file on Linux and comparing it with Keras..."):
        runner = ModelRunner(result.model_path, backend=backend)
        error, stylized = max_abs_error(checkpoint, runner, rgb)
    if error > PARITY_LIMIT:
        raise UserError(f"the exported model differs from the Keras model by up to {error:.2f} "
                        f"(limit {PARITY_LIMIT}); not shipping it")
    sample_path = save_png(stylized, out / f"{style}.sample.png")
    report = {
        "style": style,
        "checkpoint": str(named.checkpoint),
        "model": result.model_path.name,
        "contract": result.contract_path.name,
        "sample": sample_path.name,
        "sample_input": sample_name,
        "format": result.model_format,
        "minimum_ios": result.minimum_ios,
        "specification_version": result.specification_version,
        "architecture": str(checkpoint.arch),
        "parameters": result.parameters,
        "macs": result.macs,
        "file_bytes": result.file_bytes,
        "fp16_weights": fp16,
        "parity_max_abs_error": round(error, 3),
        "parity_backend": runner.backend,
        "quality_vs_teacher": named.info.get("quality", checkpoint.meta.get("quality")),
        "source_painting": named.info.get("source_painting", checkpoint.meta.get("source_painting")),
        "licence": named.info.get("licence", checkpoint.meta.get("licence")),
        "seconds": round(time.perf_counter() - started, 1),
    }
    report_path = out / f"{style}.report.json"  # a report: its paths (checkpoint, sample) made portable
    with atomic_path(report_path) as tmp:
        tmp.write_text(json.dumps(portable(report), indent=2) + "\n")
    for path in (result.model_path, result.contract_path, sample_path, report_path):
        console.print(f"wrote {path}")
    if app_models is not None:
        _copy_into(app_models, [result.model_path, result.contract_path])
        console.print(f"copied {result.model_path.name} and {result.contract_path.name} into {app_models}")
    quality = report["quality_vs_teacher"]
    quality_text = ""
    if isinstance(quality, dict) and _figure(quality.get("structure_psnr"), ".2f"):
        quality_text = (f", structure {_figure(quality['structure_psnr'], '.2f')} dB and texture "
                        f"{_figure(quality.get('gram_distance'), '.3f')} vs teacher")
    elif isinstance(quality, dict) and _figure(quality.get("psnr_db"), ".2f"):
        quality_text = f", {_figure(quality['psnr_db'], '.2f')} dB PSNR vs teacher"
    console.print(f"{style}: {result.parameters:,} parameters, {result.macs / 1e9:.1f} GMAC, "
                  f"{result.file_bytes / 1e6:.2f} MB, parity max error {error:.2f}{quality_text} "
                  f"({report['seconds']} s)")


def _figure(value, spec: str) -> str | None:
    return format(value, spec) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def quality_text(quality: dict) -> str:
    """A style's measured quality against its teacher, one figure family a line.

    Keys as described in `mobilestyle.styles`: the figures of `mobilestyle evaluate` are shown when present,
    with the teacher against itself on a shifted input in brackets.
    """
    from mobilestyle.styles import SHIFTED_CALIBRATION

    if not isinstance(quality, dict):
        return ""
    shifted = (quality.get("calibration") or {}).get(SHIFTED_CALIBRATION) or {}
    lines = []
    if "psnr_db" in quality:
        ssim = _figure(quality.get("ssim"), ".3f")
        psnr = _figure(quality["psnr_db"], ".2f") or quality["psnr_db"]
        lines.append(f"PSNR {psnr} dB" + (f", SSIM {ssim}" if ssim else ""))
    for label, key, spec, unit in (("structure", "structure_psnr", ".2f", " dB"),
                                   ("texture", "gram_distance", ".3f", "")):
        value = _figure(quality.get(key), spec)
        if value:
            calibration = _figure(shifted.get(key), spec)
            lines.append(f"{label} {value}{unit}" + (f" ({calibration})" if calibration else ""))
    detail, border = _figure(quality.get("detail_ratio"), ".2f"), _figure(quality.get("border"), ".1f")
    teacher_border = _figure(quality.get("reference_border"), ".1f")
    if detail:
        lines.append(f"detail {detail}")
    if border:
        lines.append(f"border {border}" + (f" (teacher {teacher_border})" if teacher_border else ""))
    return "\n".join(lines)


@app.command()
def styles() -> None:
    """List the named styles that `build --style` knows, with their quality measured against the teacher."""
    from mobilestyle.styles import available_styles

    table = Table(title="styles")
    for column in ("name", "source painting", "licence", "quality vs teacher", "where"):
        table.add_column(column)
    found = sorted(available_styles().items())
    for name, style in found:
        quality = style.info.get("quality") or {}
        table.add_row(name, str(style.info.get("source_painting", "?")), str(style.info.get("licence", "?")),
                      quality_text(quality), "shipped" if style.shipped else "cache")
    console.print(table)
    if any("structure_psnr" in (style.info.get("quality") or {}) for _, style in found):
        console.print("structure: PSNR after a sigma-3 blur; texture: relative Gram distance (0: the teacher's); "
                      "detail: fine detail over the teacher's (1: as sharp); border: outer-band colour departure; "
                      "in brackets: the teacher against itself on a shifted input (mobilestyle evaluate)",
                      highlight=False)
