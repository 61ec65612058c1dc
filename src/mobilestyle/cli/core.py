"""Core commands: inspect, export, stylize."""

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from mobilestyle import frame
from mobilestyle.cli.app import app
from mobilestyle.cli.console import console


ArchOption = Annotated[Optional[str], typer.Option(
    "--arch", help="Architecture, e.g. 'blocks=3,widths=32/64/128,conv=separable,norm=instance,"
                   "upsample=transposed,padding=zero' (see `mobilestyle inspect --help`).")]


@app.command()
def inspect(
    checkpoint: Annotated[Optional[Path], typer.Argument(help="A checkpoint (.npz); default: the --arch net.")] = None,
    arch: ArchOption = None,
    height: Annotated[int, typer.Option(help="Input height.")] = frame.INPUT_HEIGHT,
    width: Annotated[int, typer.Option(help="Input width.")] = frame.INPUT_WIDTH,
) -> None:
    """Print the layers of a network with their exact parameter and MAC counts.

    --arch keys: blocks (1-5), widths c1/c2/c3, block_widths (one per block), up_widths u1/u2,
    conv full|separable, norm batch|instance, upsample nearest|transposed, padding reflect|zero,
    output sigmoid|tanh150|clip, out_norm yes|no, eps, antialias yes|no, width (a multiplier).
    """
    from mobilestyle.networks.arch import ArchSpec
    from mobilestyle.networks.checkpoint import load_checkpoint
    from mobilestyle.networks.counting import layer_costs
    from mobilestyle.networks.transformer_net import build_transformer_net

    if checkpoint is not None:
        ckpt = load_checkpoint(checkpoint)
        spec, title = ckpt.arch, f"{checkpoint} ({ckpt.meta.get('style', 'unnamed')})"
    else:
        spec, title = ArchSpec.parse(arch), "TransformerNet"
    if height < 4 or width < 4:
        raise typer.BadParameter("height and width must be at least 4")
    costs = layer_costs(build_transformer_net(spec, height, width))
    table = Table(title=f"{title}\n{spec}", title_justify="left")
    for column in ("layer", "kind", "output (HxWxC)", "parameters", "MMAC"):
        table.add_column(column, justify="right" if column in ("parameters", "MMAC") else "left")
    for cost in costs:
        table.add_row(cost.name, cost.kind, "x".join(str(d) for d in cost.output_shape),
                      f"{cost.parameters:,}", f"{cost.macs / 1e6:,.1f}" if cost.macs else "")
    total_params = sum(c.parameters for c in costs)
    total_macs = sum(c.macs for c in costs)
    table.add_section()
    table.add_row("total", "", "", f"{total_params:,}", f"{total_macs / 1e6:,.1f}")
    console.print(table)
    console.print(f"parameters: {total_params:,}   MACs per frame at {width}x{height}: "
                  f"{total_macs:,} ({total_macs / 1e9:.1f} GMAC)")


@app.command()
def export(
    checkpoint: Annotated[Optional[Path], typer.Argument(help="Checkpoint (.npz) to export.")] = None,
    out: Annotated[Path, typer.Option("--out", help="Output folder.")] = Path("out"),
    name: Annotated[Optional[str], typer.Option(help="Model name (file stem); default: the style name.")] = None,
    model_format: Annotated[str, typer.Option("--format", help="neuralnetwork (.mlmodel) or mlprogram (.mlpackage).")] = "neuralnetwork",
    fp16: Annotated[bool, typer.Option("--fp16", help="Store half-precision weights.")] = False,
    resize: Annotated[str, typer.Option(help="neuralnetwork 1080p layer: upsample (iOS 14, tf.image.resize sampling) "
                                             "or resize-bilinear (iOS 13, align-corners sampling).")] = "upsample",
    random_weights: Annotated[bool, typer.Option("--random-weights", help="Export an untrained net (for latency "
                                                 "benchmarks and app smoke tests).")] = False,
    seed: Annotated[int, typer.Option(help="Seed for --random-weights.")] = 0,
    arch: ArchOption = None,
) -> None:
    """Export a checkpoint to Core ML: image input `image` (853x480), image output `stylized` (1920x1080)."""
    from mobilestyle.errors import UserError
    from mobilestyle.export.coreml import default_name, export_coreml
    from mobilestyle.export.fp16_range import describe
    from mobilestyle.networks.arch import ArchSpec
    from mobilestyle.networks.checkpoint import load_checkpoint, random_checkpoint

    if random_weights == (checkpoint is not None):
        raise UserError("give either a CHECKPOINT or --random-weights")
    if random_weights:
        ckpt = random_checkpoint(ArchSpec.parse(arch), seed)
    else:
        if arch is not None:
            raise UserError("--arch goes with --random-weights; a checkpoint carries its own architecture")
        ckpt = load_checkpoint(checkpoint)
    with console.status("converting to Core ML..."):
        result = export_coreml(ckpt, out, name or default_name(ckpt, checkpoint), model_format, fp16, resize)
    console.print(f"wrote {result.model_path} ({result.file_bytes / 1e6:.2f} MB{', fp16 weights' if fp16 else ''}, "
                  f"{result.model_format}, spec v{result.specification_version}, iOS {result.minimum_ios}+)")
    rescaled = describe(result.norm_scales)
    if rescaled:
        console.print(f"instance norms rescaled to stay inside fp16 (same function): {rescaled}")
    console.print(f"wrote {result.contract_path}")
    console.print(f"{result.parameters:,} parameters, {result.macs / 1e9:.1f} GMAC per frame")


@app.command()
def stylize(
    images: Annotated[list[Path], typer.Argument(help="Photos, or video clips (every frame, sound kept), to stylize "
                                                       "(--method optimize: also folders of frames, each a clip).")],
    model: Annotated[Optional[Path], typer.Option("--model", help="An exported .mlmodel or .mlpackage.")] = None,
    style: Annotated[Optional[str], typer.Option("--style", help="A named style instead of --model "
                                                                  "(see `mobilestyle styles`).")] = None,
    out: Annotated[Path, typer.Option("--out", help="Output folder; each result is OUT/<stem>.png (clips: "
                                                    "OUT/<stem>.mp4, or OUT.mp4 for one clip).")] = Path("out"),
    backend: Annotated[str, typer.Option(help="auto (OpenVINO when installed), openvino, onnxruntime, cuda or tensorrt (NVIDIA GPUs, the gpu extra).")] = "auto",
    method: Annotated[str, typer.Option(help="model (an exported --model) or optimize (Gatys et al.: optimize "
                                             "each image against --style-image's VGG losses; slow).")] = "model",
    style_image: Annotated[Optional[Path], typer.Option(help="--method optimize: the painting.")] = None,
    iterations: Annotated[Optional[int], typer.Option(help="--method optimize: L-BFGS iterations per image "
                                                           "(default 100).")] = None,
    vgg_weights: Annotated[Optional[Path], typer.Option(help="--method optimize: loss network weights "
                                                             "(see `mobilestyle train --help`).")] = None,
    size: Annotated[Optional[int], typer.Option(help="--method optimize: longer side of the result (default 384).")] = None,
    max_frames: Annotated[Optional[int], typer.Option(help="--method optimize: frames per clip at most.")] = None,
) -> None:
    """Stylize photos with an exported model, run on Linux by mobilestyle's Core ML runner (1920x1080 PNGs),
    or with --method optimize by optimizing each image against a painting (no model needed)."""
    from rich.progress import Progress

    from mobilestyle.errors import UserError

    if method == "optimize":
        if model is not None or style is not None:
            raise UserError("--model goes with --method model; --method optimize needs --style-image PAINTING")
        from mobilestyle.cli.train import stylize_by_optimization

        stylize_by_optimization(images, style_image, out, iterations, vgg_weights, size, max_frames)
        return
    if method != "model":
        raise UserError(f"--method must be model or optimize, got {method!r}")
    if (model is None) == (style is None):
        raise UserError("give --model FILE (.mlmodel or .mlpackage) or --style NAME, or --method optimize "
                        "--style-image PAINTING")
    from mobilestyle.files import ensure_writable_dir
    from mobilestyle.images import load_frame, save_png
    from mobilestyle.runner import ModelRunner
    from mobilestyle.video import is_video

    if style is not None:
        from mobilestyle.emulator.models import resolve_style

        model = resolve_style(style)
    if any(is_video(path) for path in images):
        if not all(is_video(path) for path in images):
            raise UserError("give either photos or video clips, not both")
        _stylize_videos(images, ModelRunner(model, backend=backend), out)
        return

    stems = [image.stem for image in images]
    duplicates = sorted({stem for stem in stems if stems.count(stem) > 1})
    if duplicates:
        raise UserError(f"several inputs would be written to the same file: {', '.join(duplicates)}.png")
    runner = ModelRunner(model, backend=backend)
    frames = [load_frame(image, *runner.input_size) for image in images]
    ensure_writable_dir(out)
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task(f"stylizing with {runner.backend}", total=len(frames))
        for image, frame_rgb in zip(images, frames):
            path = save_png(runner.run(frame_rgb), out / f"{image.stem}.png")
            progress.advance(task)
            console.print(f"wrote {path}")


def _stylize_videos(videos: list[Path], runner, out: Path) -> None:
    """Every frame of each clip through the model, at the clip's frame rate and length, its audio copied."""
    from rich.progress import Progress

    from mobilestyle.images import fit_frame
    from mobilestyle.video import stylize_video, video_destinations

    def stylize_frame(rgb):
        return runner.run(fit_frame(rgb, *runner.input_size))

    for source, destination in video_destinations(videos, out):
        with Progress(*Progress.get_default_columns(), console=console, transient=True) as progress:
            task = progress.add_task(f"{source.name} with {runner.backend}", total=None)
            result = stylize_video(source, destination, stylize_frame,
                                   lambda done, total: progress.update(task, completed=done, total=total or None))
        sound = f", {result.audio_packets} audio packets copied" if result.source.audio else ", no audio"
        console.print(f"wrote {result.path} ({result.frames} frames at {float(result.source.rate):.2f} fps{sound})",
                      highlight=False)
