"""The stability term of `distill` and `train`: a net's output for its input moved a few pixels should be
its output moved the same way. Strokes that follow the picture, not the net's stride-4 grid, do not
crawl on video.
"""

from __future__ import annotations

import math
from typing import Callable

import tensorflow as tf

from mobilestyle.errors import UserError

GRID = 4  # the TransformerNet's stride: inputs of any size it was built for are multiples of it


def validate_stability(weight: float, shift: int, noise: float) -> None:
    """The `--stability-weight/--stability-shift/--stability-noise` checks, shared by both commands."""
    if not (weight >= 0 and math.isfinite(weight)):
        raise UserError(f"--stability-weight must be a finite number >= 0, got {weight}")
    if not 1 <= shift <= 3:
        raise UserError(f"--stability-shift must be 1, 2 or 3 px (off the stride-4 grid), got {shift}")
    if noise < 0:
        raise UserError(f"--stability-noise must be >= 0, got {noise}")


def stability_loss(net: Callable, content: tf.Tensor, produced: tf.Tensor, shift: int, noise: float, seed: int,
                   step: tf.Tensor, training: bool) -> tf.Tensor:
    """MSE (0..1 scale) between `net`'s output for `content` moved by `shift` px down and right, plus
    Gaussian noise of sigma `noise` (0..255, drawn from the stateless seed (seed, step)), and `produced`
    (the net's output for `content`) moved the same way.

    The moved window is the largest multiple of 4 px in each direction that fits (H - 4 for the
    1-3 px shifts and the multiple-of-4 crops of both commands), so the net keeps its own size.
    Call it inside the gradient tape that records `produced`.
    """
    shape = tf.shape(content)
    height = (shape[1] - shift) // GRID * GRID
    width = (shape[2] - shift) // GRID * GRID
    moved = content[:, shift:shift + height, shift:shift + width]
    draws = tf.random.stateless_normal(tf.shape(moved), tf.stack([tf.cast(seed, tf.int64), tf.cast(step, tf.int64)]))
    moved_output = net(tf.clip_by_value(moved + noise * draws, 0.0, 255.0), training=training)
    return tf.reduce_mean(tf.square((moved_output - produced[:, shift:shift + height, shift:shift + width]) / 255.0))


def replica_noise_step(iterations: tf.Variable, replicas: int) -> tf.Tensor:
    """The noise's step inside a replica: one per (optimizer step, replica), so replicas draw their own."""
    replica = tf.distribute.get_replica_context().replica_id_in_sync_group
    return tf.cast(iterations, tf.int64) * replicas + tf.cast(replica, tf.int64)


def add_stability_term(tape: tf.GradientTape, gradients: list, variables: list, weight: float, stability: tf.Tensor,
                       replicas: int, total: tf.Tensor, terms: dict) -> tuple[list, tf.Tensor, dict]:
    """The step's gradients, total and terms with the stability term added, its gradient scaled to this
    replica's share (weight x term / replicas).

    `tape` is the persistent tape that recorded the network's passes and `stability`; it is re-entered
    to record the share, which taken outside it would have no gradient.
    """
    with tape:
        share = weight * stability / replicas
    extra = tape.gradient(share, variables)
    gradients = [g if e is None else g + e for g, e in zip(gradients, extra)]
    return gradients, total + weight * stability, {**terms, "stability": stability}
