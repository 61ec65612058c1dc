"""Training commands: distill."""

from pathlib import Path
from typing import Annotated, Optional

import typer

from mobilestyle.cli.app import app
from mobilestyle.cli.core import ArchOption
from mobilestyle.cli.train import (
    STABILITY_WEIGHT_HELP,
    CpuDevicesOption,
    StabilityNoiseOption,
    StabilityShiftOption,
    StrategyOption,
)


@app.command()
def distill(
    teacher: Annotated[Path, typer.Option(help="Teacher: an ml5 folder (manifest.json), a pytorch/examples "
                                               ".pth or a mobilestyle .npz checkpoint.")],
    content_dir: Annotated[list[Path], typer.Option(help="Folder of content photos (repeatable).")],
    out: Annotated[Path, typer.Option(help="Student checkpoint to write (.npz); the work folder "
                                           "(state, grid, curve, report) is beside it.")],
    arch: ArchOption = None,
    steps: Annotated[Optional[int], typer.Option(help="Step budget.")] = None,
    minutes: Annotated[Optional[float], typer.Option(help="Wall-clock training budget in minutes.")] = None,
    preset: Annotated[str, typer.Option(help="Defaults for --arch, --batch-size, --crop-size, --lr, --init, "
                                             "--norm-stats and the loss weights: perceptual (the default: the "
                                             "project's layout, reflection padding and nearest-resize upsampling, "
                                             "with the teacher's widths and head, started from its weights, "
                                             "statistics fixed, batches of 2 256-px crops, lr 3e-4, low-pass pixel "
                                             "+ VGG feature + Gram losses; needs --vgg-weights offline) | teacher "
                                             "(the teacher's own layout cut to 3 blocks, pixel loss, whole-height "
                                             "crops, lr 1e-4) | scratch (the default arch from random weights, "
                                             "batches of 4 128-px crops, lr 1e-3, pixel loss).")] = "perceptual",
    batch_size: Annotated[Optional[int], typer.Option(help="Crops per step (scratch: 4, teacher: 1).")] = None,
    crop_size: Annotated[Optional[int], typer.Option(help="Square crop side in pixels, a multiple of 4 "
                                                          "(scratch: 128, teacher: 480).")] = None,
    lr: Annotated[Optional[float], typer.Option(help="Peak Adam learning rate, cosine decay to 5% over the budget "
                                                     "(scratch: 1e-3, teacher: 1e-4).")] = None,
    seed: Annotated[int, typer.Option(help="Seed for initialisation and crops.")] = 0,
    eval_dir: Annotated[Optional[Path], typer.Option(help="Held-out photos (default: every 10th content photo).")] = None,
    eval_images: Annotated[int, typer.Option(help="Held-out frames to use, evenly spaced (0: all).")] = 24,
    train_images: Annotated[int, typer.Option(help="Training photos to use, evenly spaced (0: all); the teacher "
                                                   "stylizes each once.")] = 0,
    vgg_weights: Annotated[Optional[Path], typer.Option(help="VGG weights for the feature and Gram losses and the "
                                                             "texture measure (.npz to block3 or a Keras .h5); "
                                                             "default: ImageNet VGG19, downloaded on first use.")] = None,
    pixel_weight: Annotated[Optional[float], typer.Option(help="Pixel MSE (rewards blur) (perceptual: 0, others: 1).")] = None,
    lowpass_weight: Annotated[Optional[float], typer.Option(help="MSE of blurred frames: colours and layout "
                                                                 "(perceptual: 100).")] = None,
    lowpass_sigma: Annotated[float, typer.Option(help="Gaussian sigma (px) of the low-pass loss.")] = 2.0,
    feature_weight: Annotated[Optional[float], typer.Option(help="Relative VGG feature error at relu2_2 and the "
                                                                 "deepest layer (perceptual: 0.5).")] = None,
    gram_weight: Annotated[Optional[float], typer.Option(help="Relative Gram error at relu1_2/relu2_2/relu3_4, each "
                                                              "crop against the teacher's: texture (perceptual: 10).")] = None,
    coarse_gram_weight: Annotated[Optional[float], typer.Option(
        help="The Gram error on both frames shrunk --coarse-gram-shrink times: relu3_4 then sees the teacher's "
             "stroke layout, not only its 48-px surface [0].")] = None,
    coarse_gram_shrink: Annotated[int, typer.Option(help="Shrink factor of the coarse Gram loss: 2, 4 or 8.")] = 4,
    tv_weight: Annotated[Optional[float], typer.Option(help="Total variation [0].")] = None,
    stability_weight: Annotated[Optional[float], typer.Option(
        help=f"{STABILITY_WEIGHT_HELP} (perceptual: 100, others: 0).")] = None,
    stability_shift: StabilityShiftOption = "random",
    stability_noise: StabilityNoiseOption = 2.0,
    teacher_pad: Annotated[int, typer.Option(help="Reflect-pad each frame by this many px for the teacher and crop "
                                                  "its output back (its zero padding paints edge bands).")] = 32,
    init: Annotated[Optional[str], typer.Option(help="Student initialisation: random | teacher (copy shared weights) "
                                                     "| a student checkpoint .npz of the same architecture, "
                                                     "antialias aside (e.g. another style's) (scratch: random, "
                                                     "teacher: teacher).")] = None,
    norm_stats: Annotated[Optional[str], typer.Option(help="Batch-norm statistics while training: batch (each "
                                                           "batch's own, the usual) | fixed (measured on whole "
                                                           "training frames first, then kept: trains exactly the "
                                                           "deployed function) (scratch: batch, teacher: fixed).")] = None,
    eval_every: Annotated[float, typer.Option(help="Minutes between held-out evaluations (curve, grid).")] = 3.0,
    checkpoint_every: Annotated[float, typer.Option(help="Minutes between saved checkpoints.")] = 5.0,
    resume: Annotated[bool, typer.Option(help="Continue from the saved state in the work folder.")] = False,
    fp16: Annotated[bool, typer.Option(help="Store the student checkpoint in float16.")] = False,
    strategy: StrategyOption = "auto",
    cpu_devices: CpuDevicesOption = 1,
) -> None:
    """Train a small student net to look like a teacher's stylized frames (structure/texture/detail report at 853x480)."""
    from mobilestyle.networks.arch import ArchSpec
    from mobilestyle.training.distill import distill as run_distill, preset_config
    from mobilestyle.training.distribute import make_distribution
    from mobilestyle.training.stability import parse_stability_shift

    distribution = make_distribution(strategy, cpu_devices)  # before the teacher or anything else starts TensorFlow
    config = preset_config(
        preset, arch=ArchSpec.parse(arch) if arch else None,
        teacher=teacher, content_dirs=content_dir, out=out, steps=steps, minutes=minutes,
        batch_size=batch_size, crop_size=crop_size, lr=lr, seed=seed, eval_dir=eval_dir, eval_images=eval_images,
        train_images=train_images, vgg_weights=vgg_weights, pixel_weight=pixel_weight, lowpass_weight=lowpass_weight,
        lowpass_sigma=lowpass_sigma, feature_weight=feature_weight, gram_weight=gram_weight,
        coarse_gram_weight=coarse_gram_weight, coarse_gram_shrink=coarse_gram_shrink, tv_weight=tv_weight,
        stability_weight=stability_weight, stability_shift=parse_stability_shift(stability_shift),
        stability_noise=stability_noise,
        teacher_pad=teacher_pad, init=init, norm_stats=norm_stats,
        eval_every_minutes=eval_every, checkpoint_every_minutes=checkpoint_every, resume=resume, fp16=fp16)
    run_distill(config, distribution=distribution)
