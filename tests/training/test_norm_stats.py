import keras
import numpy as np

from mobilestyle.networks.arch import ArchSpec
from mobilestyle.networks.checkpoint import random_checkpoint
from mobilestyle.training.norm_stats import recalibrate_batch_norm


def test_recalibrated_statistics_are_the_exact_statistics_of_each_norms_input():
    model = random_checkpoint(ArchSpec(blocks=1, widths=(4, 4, 8)), seed=0).build_model(16, 24)
    frames = np.random.default_rng(1).uniform(0, 255, (3, 16, 24, 3)).astype(np.float32)
    assert recalibrate_batch_norm(model, frames) == 7
    for name in ("conv1_norm", "res1_conv2_norm", "up2_norm"):
        norm = model.get_layer(name)
        inputs = keras.Model(model.inputs[0], norm.input)(frames, training=False).numpy()
        np.testing.assert_allclose(norm.moving_mean.numpy(), inputs.mean(axis=(0, 1, 2)), rtol=1e-4, atol=1e-4)
        np.testing.assert_allclose(norm.moving_variance.numpy(), inputs.var(axis=(0, 1, 2)), rtol=1e-3, atol=1e-4)


def test_a_net_without_batch_norm_is_left_alone():
    model = random_checkpoint(ArchSpec(blocks=1, widths=(4, 4, 8), norm="instance"), seed=0).build_model(16, 24)
    before = [weight.numpy().copy() for weight in model.weights]
    assert recalibrate_batch_norm(model, np.zeros((1, 16, 24, 3), np.float32)) == 0
    for old, weight in zip(before, model.weights):
        np.testing.assert_array_equal(old, weight.numpy())
