"""The fine-tunes around pruning: a sparsity fine-tune (L1 on batch-norm gamma) and a recovery fine-tune.

Both distil from a teacher's frames with the machinery of `training.distill` (cached teacher frames,
deterministic random crops, pixel MSE on 0..1, cosine learning rate over a step or minute budget).
The student starts from the given checkpoint's weights. The sparsity term is `weight * mean |gamma|`
over the norms of every prunable channel group, which drives the gammas of channels the output does
not need towards zero.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace

import keras
import numpy as np
import tensorflow as tf
from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from mobilestyle.errors import UserError
from mobilestyle.networks.checkpoint import Checkpoint, model_weights, set_model_weights
from mobilestyle.networks.transformer_net import build_transformer_net
from mobilestyle.pruning.groups import channel_groups
from mobilestyle.training.distill import (
    DistillConfig,
    budget_fraction,
    cosine_learning_rate,
    crop_batches,
    evaluate,
    split_content,
    teacher_targets,
)
from mobilestyle.training.norm_stats import recalibrate


@dataclass
class TeacherFrames:
    train_content: np.ndarray
    train_target: np.ndarray
    eval_content: np.ndarray
    eval_target: np.ndarray


def progress_bar(console: Console, transient: bool = False) -> Progress:
    return Progress(TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.fields[info]}"),
                    TimeElapsedColumn(), TimeRemainingColumn(), console=console, transient=transient)


def teacher_frames(teacher: Checkpoint, config: DistillConfig, folder, console: Console) -> TeacherFrames:
    """Training and held-out content frames with the teacher's results, cached in `folder`."""
    train_paths, eval_paths = split_content(config)
    with progress_bar(console, transient=True) as progress:
        train = teacher_targets(teacher, train_paths, config, folder / "targets.npz", progress)
        held_out = teacher_targets(teacher, eval_paths, config, folder / "eval_targets.npz", progress)
    return TeacherFrames(*train, *held_out)


def quality(checkpoint: Checkpoint, frames: TeacherFrames) -> tuple[float, float]:
    """Mean PSNR (dB) and SSIM of the net's held-out frames against the teacher's."""
    height, width = frames.eval_content.shape[1:3]
    psnr, ssim, _ = evaluate(checkpoint.build_model(height, width), frames.eval_content, frames.eval_target)
    return psnr, ssim


def _train_step(student: keras.Model, optimizer, gammas: list, sparsity_weight: float):
    @tf.function
    def step(content, target):
        with tf.GradientTape() as tape:
            produced = student(content, training=True)
            loss = tf.reduce_mean(tf.square((produced - target) / 255.0))
            if sparsity_weight:
                loss += sparsity_weight * tf.reduce_mean(tf.abs(tf.concat(gammas, axis=0)))
        gradients = tape.gradient(loss, student.trainable_variables)
        optimizer.apply(gradients, student.trainable_variables)
        return loss
    return step


def finetune(checkpoint: Checkpoint, frames: TeacherFrames, config: DistillConfig, sparsity_weight: float,
             label: str, console: Console) -> tuple[Checkpoint, int]:
    """Fine-tune the checkpoint's weights for `config.steps` steps and/or `config.minutes`; returns (net, steps)."""
    config = replace(config, arch=checkpoint.arch)
    config.validate()
    keras.utils.set_random_seed(config.seed)
    student = build_transformer_net(checkpoint.arch)
    student.build((None, None, None, 3))
    set_model_weights(student, checkpoint.weights)
    gammas = [student.get_layer(norm).gamma for group in channel_groups(checkpoint.arch) for norm in group.norms]
    optimizer = keras.optimizers.Adam(config.lr)
    optimizer.build(student.trainable_variables)
    train_step = _train_step(student, optimizer, gammas, sparsity_weight)
    batches = iter(crop_batches(frames.train_content, frames.train_target, config, 0))
    step, started = 0, time.monotonic()
    with progress_bar(console) as progress:
        task = progress.add_task(label, total=1.0, info="")
        while (fraction := budget_fraction(config, step, time.monotonic() - started)) < 1.0:
            optimizer.learning_rate.assign(cosine_learning_rate(config.lr, fraction))
            loss = float(train_step(*next(batches)))
            if not math.isfinite(loss):
                raise UserError(f"{label} diverged at step {step} (loss {loss}); lower --lr")
            step += 1
            progress.update(task, completed=budget_fraction(config, step, time.monotonic() - started),
                            info=f"step {step} loss {loss:.5f}")
    return Checkpoint(checkpoint.arch, model_weights(student), dict(checkpoint.meta)), step


def recalibrated(checkpoint: Checkpoint, frames: TeacherFrames, console: Console) -> Checkpoint:
    """The checkpoint with its batch-norm statistics re-estimated on whole training frames, if that helps."""
    height, width = frames.train_content.shape[1:3]
    model = checkpoint.build_model(height, width)
    recalibrate(model, checkpoint.build_model(height, width), frames.train_content, frames.train_target, console)
    return Checkpoint(checkpoint.arch, model_weights(model), dict(checkpoint.meta))
