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
RANDOM_SHIFT = "random"  # a new (down, right) offset each step: every phase of the stride grid but (0, 0)


def parse_stability_shift(text: str) -> int | str:
    """`--stability-shift` as typed: 1, 2 or 3 (px, down and right) or `random`."""
    try:
        return int(text)
    except ValueError:
        return text


def describe_shift(shift: int | str) -> str:
    return f"{shift} px" if isinstance(shift, int) else f"{shift} 0-3 px"


def validate_stability(weight: float, shift: int | str, noise: float) -> None:
    """The `--stability-weight/--stability-shift/--stability-noise` checks, shared by both commands."""
    if not (weight >= 0 and math.isfinite(weight)):
        raise UserError(f"--stability-weight must be a finite number >= 0, got {weight}")
    if shift != RANDOM_SHIFT and not (isinstance(shift, int) and 1 <= shift <= 3):
        raise UserError(f"--stability-shift must be 1, 2 or 3 px (off the stride-4 grid) or {RANDOM_SHIFT}, "
                        f"got {shift}")
    if noise < 0:
        raise UserError(f"--stability-noise must be >= 0, got {noise}")


def stability_loss(net: Callable, content: tf.Tensor, produced: tf.Tensor, shift: int | str, noise: float,
                   seed: int, step: tf.Tensor, training: bool, move_step: tf.Tensor | None = None) -> tf.Tensor:
    """MSE (0..1 scale) between `net`'s output for `content` moved by `shift` px down and right, plus
    Gaussian noise of sigma `noise` (0..255, drawn from the stateless seed (seed, step)), and `produced`
    (the net's output for `content`) moved the same way.

    `shift` "random" draws the move from (seed, `move_step`, default `step`): 0-3 px down and 0-3 px
    right, never both 0, so over the steps the net sees every phase of its stride-4 grid, where a fixed
    diagonal shift teaches one. Replicas pass the optimizer's step as `move_step`, so a mirrored run
    moves its whole global batch the same way, as one device does. The moved window is the largest multiple
    of 4 px in each direction that fits the largest shift (H - 4 for the multiple-of-4 crops of both
    commands), so the net keeps its own size.
    Call it inside the gradient tape that records `produced`.
    """
    shape = tf.shape(content)
    step_seed = tf.stack([tf.cast(seed, tf.int64), tf.cast(step, tf.int64)])
    largest = 3 if shift == RANDOM_SHIFT else shift
    height = (shape[1] - largest) // GRID * GRID
    width = (shape[2] - largest) // GRID * GRID
    if shift == RANDOM_SHIFT:
        move_seed = tf.stack([tf.cast(seed, tf.int64) + 1,
                              tf.cast(step if move_step is None else move_step, tf.int64)])
        phase = tf.random.stateless_uniform([], move_seed, minval=1, maxval=GRID * GRID, dtype=tf.int32)
        down, right = phase // GRID, phase % GRID
    else:
        down, right = shift, shift
    window = tf.stack([-1, height, width, -1])
    corner = tf.stack([0, down, right, 0])
    moved = tf.slice(content, corner, window)
    draws = tf.random.stateless_normal(tf.shape(moved), step_seed)
    moved_output = net(tf.clip_by_value(moved + noise * draws, 0.0, 255.0), training=training)
    return tf.reduce_mean(tf.square((moved_output - tf.slice(produced, corner, window)) / 255.0))


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
