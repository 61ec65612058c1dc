"""The prune command: network slimming and residual-block removal with a recovery fine-tune."""

from pathlib import Path
from typing import Annotated

import typer

from mobilestyle.cli.app import app


@app.command()
def prune(
    checkpoint: Annotated[Path, typer.Argument(help="A batch-norm checkpoint (.npz) to prune.")],
    out: Annotated[Path, typer.Option(help="Pruned checkpoint to write (.npz); the work folder "
                                           "(teacher frames, report.json) is beside it.")],
    target_macs: Annotated[float | None, typer.Option(help="Keep the most channels that fit this many GMAC "
                                                              "per 853x480 frame.")] = None,
    keep: Annotated[float | None, typer.Option(help="Keep this fraction of the prunable channels "
                                                       "(ranked by |gamma| over the whole net).")] = None,
    teacher: Annotated[Path | None, typer.Option(help="Teacher for the fine-tunes (ml5 folder, .pth or .npz); "
                                                         "default: the unpruned checkpoint itself.")] = None,
    content_dir: Annotated[list[Path] | None, typer.Option(help="Folder of photos for the fine-tunes and "
                                                                   "the block measurement (repeatable).")] = None,
    sparsity_steps: Annotated[int, typer.Option(help="Steps of the L1-on-gamma sparsity fine-tune (0: none).")] = 100,
    sparsity_weight: Annotated[float, typer.Option(help="Weight of mean |gamma| in the sparsity loss.")] = 0.01,
    recovery_steps: Annotated[int | None, typer.Option(help="Steps of the recovery fine-tune (default 200, "
                                                               "or unlimited with --minutes; 0: none).")] = None,
    minutes: Annotated[float | None, typer.Option(help="Wall-clock budget of the recovery fine-tune.")] = None,
    block_threshold: Annotated[float, typer.Option(help="Remove residual blocks whose branch/trunk norm ratio "
                                                        "is below this (0: keep all).")] = 0.05,
    keep_blocks: Annotated[int | None, typer.Option(help="Keep at most this many residual blocks "
                                                           "(the most identity-like go first).")] = None,
    lr: Annotated[float, typer.Option(help="Peak Adam learning rate of the fine-tunes.")] = 2e-4,
    train_images: Annotated[int, typer.Option(help="Training photos (evenly spaced; 0: all).")] = 32,
    eval_images: Annotated[int, typer.Option(help="Held-out photos for the scores (every 10th photo).")] = 8,
    seed: Annotated[int, typer.Option(help="Seed for the crops.")] = 0,
) -> None:
    """Prune a batch-norm net: sparsity fine-tune, block removal, channel slimming, recovery fine-tune."""
    from mobilestyle.pruning.pipeline import PruneConfig
    from mobilestyle.pruning.pipeline import prune as run_prune

    config = PruneConfig(
        checkpoint=checkpoint, out=out, target_macs=None if target_macs is None else target_macs * 1e9, keep=keep,
        teacher=teacher, content_dirs=list(content_dir or []), sparsity_steps=sparsity_steps,
        sparsity_weight=sparsity_weight, recovery_steps=recovery_steps if recovery_steps is not None else (200 if minutes is None else None),
        recovery_minutes=minutes, block_threshold=block_threshold, keep_blocks=keep_blocks, lr=lr,
        train_images=train_images, eval_images=eval_images, seed=seed)
    run_prune(config)
