"""The stability term shared by `distill` and `train` (training/stability.py)."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from mobilestyle.errors import UserError
from mobilestyle.training.stability import RANDOM_SHIFT, parse_stability_shift, stability_loss, validate_stability


def pointwise_net() -> keras.Model:
    """A 1x1 conv: it commutes with shifts."""
    inputs = keras.Input((None, None, 3))
    conv = keras.layers.Conv2D(3, 1, kernel_initializer=keras.initializers.RandomNormal(seed=1),
                               bias_initializer=keras.initializers.Constant(5.0))
    return keras.Model(inputs, conv(inputs))


def grid_net() -> keras.Model:
    """4x4 block means, repeated: an output that sits on a stride-4 grid, like a TransformerNet's strokes."""
    inputs = keras.Input((None, None, 3))
    return keras.Model(inputs, keras.layers.UpSampling2D(4)(keras.layers.AveragePooling2D(4)(inputs)))


def content(height=32, width=32, batch=2, seed=0) -> tf.Tensor:
    return tf.constant(np.random.default_rng(seed).uniform(0, 255, (batch, height, width, 3)).astype(np.float32))


def loss(net, images, shift=2, noise=0.0, seed=0, step=0) -> float:
    return float(stability_loss(net, images, net(images, training=False), shift, noise, seed,
                                tf.constant(step, tf.int64), training=False))


@pytest.mark.parametrize("shift", [1, 2, 3])
def test_a_net_that_commutes_with_shifts_has_no_stability_loss_and_a_grid_net_has(shift):
    images = content()
    assert loss(pointwise_net(), images, shift) < 1e-10
    assert loss(grid_net(), images, shift) > 1e-3


def test_the_noise_is_drawn_from_the_seed_and_step():
    net, images = pointwise_net(), content()
    noisy = loss(net, images, noise=2.0, seed=3, step=7)
    assert noisy > 1e-8  # the noise-free loss is < 1e-10
    assert loss(net, images, noise=2.0, seed=3, step=7) == noisy
    assert loss(net, images, noise=2.0, seed=3, step=8) != noisy
    assert loss(net, images, noise=2.0, seed=4, step=7) != noisy


@pytest.mark.parametrize("shift", [1, 2, 3])
def test_square_crops_give_the_term_distill_shipped_with(shift):
    """The window that was H - 4 square whatever the shift (the shipped students' recipes) is unchanged."""
    net, images = grid_net(), content(seed=1)
    produced = net(images)
    size, step, seed, noise = images.shape[1] - 4, tf.constant(5, tf.int64), 2, 2.0
    moved = images[:, shift:shift + size, shift:shift + size]
    draws = tf.random.stateless_normal(tf.shape(moved), tf.stack([tf.cast(seed, tf.int64), step]))
    moved_output = net(tf.clip_by_value(moved + noise * draws, 0.0, 255.0), training=False)
    before = tf.reduce_mean(tf.square((moved_output - produced[:, shift:shift + size, shift:shift + size]) / 255.0))
    assert float(stability_loss(net, images, produced, shift, noise, seed, step, training=False)) == float(before)


def test_the_window_covers_both_sides_of_a_wide_crop_in_multiples_of_four():
    seen = []

    def net(images, training):
        seen.append((tuple(images.shape), training))
        return images

    images = content(height=16, width=28)
    assert float(stability_loss(net, images, images, 3, 0.0, 0, tf.constant(0, tf.int64), training=True)) == 0.0
    assert seen == [((2, 12, 24, 3), True)]


@pytest.mark.parametrize("weight, shift, noise, message", [
    (-1.0, 2, 2.0, "--stability-weight must be a finite number >= 0, got -1.0"),
    (float("inf"), 2, 2.0, "--stability-weight must be a finite number >= 0, got inf"),
    (1.0, 4, 2.0, r"--stability-shift must be 1, 2 or 3 px \(off the stride-4 grid\) or random, got 4"),
    (1.0, 0, 2.0, "--stability-shift must be 1, 2 or 3 px"),
    (1.0, "sideways", 2.0, "--stability-shift must be 1, 2 or 3 px .* or random, got sideways"),
    (1.0, 2, -0.5, "--stability-noise must be >= 0, got -0.5"),
])
def test_bad_stability_options_are_user_errors(weight, shift, noise, message):
    with pytest.raises(UserError, match=message):
        validate_stability(weight, shift, noise)
    validate_stability(0.0, 1, 0.0)
    validate_stability(1.0, RANDOM_SHIFT, 2.0)


@pytest.mark.parametrize("text, shift", [("1", 1), ("3", 3), ("random", RANDOM_SHIFT), ("4", 4), ("up", "up")])
def test_the_shift_option_is_a_number_or_random_and_validation_judges_it(text, shift):
    assert parse_stability_shift(text) == shift


def moves_seen(steps, seed=0, move_step=None) -> list[tuple[int, int]]:
    """The (down, right) move of each step, read off an image whose pixels hold their row and column."""
    rows, columns = tf.meshgrid(tf.range(32.0), tf.range(32.0), indexing="ij")
    images = tf.stack([rows, columns, tf.zeros_like(rows)], axis=-1)[None]
    seen = []

    def net(moved, training):
        seen.append((int(moved[0, 0, 0, 0]), int(moved[0, 0, 0, 1])))
        return moved

    for step in range(steps):
        stability_loss(net, images, images, RANDOM_SHIFT, 0.0, seed, tf.constant(step, tf.int64), training=False,
                       move_step=move_step)
    return seen


def test_a_random_shift_visits_every_phase_of_the_grid_but_none_and_follows_the_seed():
    assert set(moves_seen(200)) == {(down, right) for down in range(4) for right in range(4)} - {(0, 0)}
    assert moves_seen(8, seed=1) == moves_seen(8, seed=1) != moves_seen(8, seed=2)


def test_a_random_shift_keeps_the_window_a_multiple_of_four_and_a_pointwise_net_free_of_loss():
    sizes = []

    def net(moved, training):
        sizes.append(tuple(moved.shape[1:3]))
        return moved

    images = content(height=16, width=28)
    for step in range(8):
        assert float(stability_loss(net, images, images + 0.0, RANDOM_SHIFT, 0.0, 0, tf.constant(step, tf.int64),
                                    training=False)) == 0.0
    assert set(sizes) == {(12, 24)}
    assert loss(pointwise_net(), content(), shift=RANDOM_SHIFT) < 1e-10
    assert loss(grid_net(), content(), shift=RANDOM_SHIFT, step=3) > 1e-3


def test_replicas_given_the_optimizer_step_move_their_crops_alike():
    """Each replica draws its noise from its own step but its move from the shared one, as one device would."""
    assert len(set(moves_seen(8, move_step=tf.constant(5, tf.int64)))) == 1
    assert moves_seen(1, move_step=tf.constant(5, tf.int64)) == moves_seen(6)[5:]
