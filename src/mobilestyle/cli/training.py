"""Training commands: distill."""

from pathlib import Path
from typing import Annotated, Optional

import typer

from mobilestyle.cli.app import app
from mobilestyle.cli.core import ArchOption


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
    preset: Annotated[str, typer.Option(help="Defaults for --arch, --batch-size, --crop-size, --lr, --init and "
                                             "--norm-stats: scratch (the default arch from random weights, batches "
                                             "of 4 128-px crops, lr 1e-3, batch statistics) | teacher (the "
                                             "teacher's own layout cut to 3 blocks with batch norm, started from "
                                             "its weights, statistics fixed, one whole-height 480-px crop per step, "
                                             "lr 1e-4: the recipe of the shipped muse, wave, wreck, udnie).")] = "scratch",
    batch_size: Annotated[Optional[int], typer.Option(help="Crops per step [scratch: 4, teacher: 1].")] = None,
    crop_size: Annotated[Optional[int], typer.Option(help="Square crop side in pixels, a multiple of 4 "
                                                          "[scratch: 128, teacher: 480].")] = None,
    lr: Annotated[Optional[float], typer.Option(help="Peak Adam learning rate, cosine decay to 5% over the budget "
                                                     "[scratch: 1e-3, teacher: 1e-4].")] = None,
    seed: Annotated[int, typer.Option(help="Seed for initialisation and crops.")] = 0,
    eval_dir: Annotated[Optional[Path], typer.Option(help="Held-out photos (default: every 10th content photo).")] = None,
    eval_images: Annotated[int, typer.Option(help="Held-out frames to use, evenly spaced (0: all).")] = 24,
    train_images: Annotated[int, typer.Option(help="Training photos to use, evenly spaced (0: all); the teacher "
                                                   "stylizes each once.")] = 0,
    vgg_weights: Annotated[Optional[Path], typer.Option(help="Keras-layout VGG19 .npz: adds a relu2_2 feature loss.")] = None,
    feature_weight: Annotated[float, typer.Option(help="Weight of the VGG feature loss.")] = 0.1,
    init: Annotated[Optional[str], typer.Option(help="Student initialisation: random | teacher (copy shared weights) "
                                                     "| a student checkpoint .npz of the same architecture (e.g. "
                                                     "another style's) [scratch: random, teacher: teacher].")] = None,
    norm_stats: Annotated[Optional[str], typer.Option(help="Batch-norm statistics while training: batch (each "
                                                           "batch's own, the usual) | fixed (measured on whole "
                                                           "training frames first, then kept: trains exactly the "
                                                           "deployed function) [scratch: batch, teacher: fixed].")] = None,
    eval_every: Annotated[float, typer.Option(help="Minutes between held-out evaluations (curve, grid).")] = 3.0,
    checkpoint_every: Annotated[float, typer.Option(help="Minutes between saved checkpoints.")] = 5.0,
    resume: Annotated[bool, typer.Option(help="Continue from the saved state in the work folder.")] = False,
    fp16: Annotated[bool, typer.Option(help="Store the student checkpoint in float16.")] = False,
) -> None:
    """Train a small student net to reproduce a teacher's stylized frames (PSNR/SSIM report at 853x480)."""
    from mobilestyle.networks.arch import ArchSpec
    from mobilestyle.training.distill import distill as run_distill, preset_config

    config = preset_config(
        preset, arch=ArchSpec.parse(arch) if arch else None,
        teacher=teacher, content_dirs=content_dir, out=out, steps=steps, minutes=minutes,
        batch_size=batch_size, crop_size=crop_size, lr=lr, seed=seed, eval_dir=eval_dir, eval_images=eval_images,
        train_images=train_images, vgg_weights=vgg_weights, feature_weight=feature_weight, init=init, norm_stats=norm_stats,
        eval_every_minutes=eval_every, checkpoint_every_minutes=checkpoint_every, resume=resume, fp16=fp16)
    run_distill(config)
