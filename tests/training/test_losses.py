import numpy as np
import pytest
import tensorflow as tf

from mobilestyle.images import load_rgb
from mobilestyle.training.losses import (content_loss, gram_distance, gram_matrix, perceptual_loss, shrink,
                                         style_grams, style_loss, total_variation_loss)
from mobilestyle.training.vgg import load_loss_network
from tests.training.synthetic import write_painting, write_vgg_npz


def test_gram_matrix_of_a_hand_made_tensor():
    features = tf.constant([[[[1.0, 2.0], [3.0, 4.0]]]])  # (1, 1, 2, 2): two positions, two channels
    # F = [[1, 2], [3, 4]]; F^T F = [[10, 14], [14, 20]]; divided by H*W*C = 4
    np.testing.assert_allclose(gram_matrix(features).numpy()[0], [[2.5, 3.5], [3.5, 5.0]])


def test_gram_matrix_is_per_image_and_symmetric():
    features = tf.random.stateless_normal((3, 5, 4, 6), seed=(1, 2))
    grams = gram_matrix(features).numpy()
    assert grams.shape == (3, 6, 6)
    np.testing.assert_allclose(grams, np.transpose(grams, (0, 2, 1)), rtol=1e-6)
    np.testing.assert_allclose(grams[1], gram_matrix(features[1:2]).numpy()[0], rtol=1e-6)


def test_shrink_averages_blocks_per_image_and_channel():
    images = np.zeros((2, 4, 6, 3), np.float32)
    images[0, :, ::2, 0] = 8.0
    images[1, :2, :, 2] = 4.0
    shrunk = shrink(tf.constant(images), 2).numpy()
    assert shrunk.shape == (2, 2, 3, 3)
    assert (shrunk[0, ..., 0] == 4.0).all() and (shrunk[1, 0, :, 2] == 4.0).all() and (shrunk[1, 1, :, 2] == 0).all()


def test_total_variation_of_an_edge_and_of_a_flat_image():
    edge = np.zeros((1, 2, 4, 3), np.float32)
    edge[:, :, 2:] = 255.0  # one jump of 1.0 (on a 0..1 scale) among 3 horizontal neighbour pairs
    assert total_variation_loss(tf.constant(edge)).numpy() == pytest.approx(1 / 3)
    assert total_variation_loss(tf.fill((1, 5, 5, 3), 77.0)).numpy() == 0.0
    assert total_variation_loss(tf.constant(np.transpose(edge, (0, 2, 1, 3)))).numpy() == pytest.approx(1 / 3)


def test_content_loss_is_zero_for_equal_features_and_relative_to_their_size():
    target = {"relu2_2": tf.random.stateless_uniform((2, 4, 4, 8), seed=(3, 4))}
    assert content_loss(target, target, "relu2_2").numpy() == 0.0
    shifted = {"relu2_2": target["relu2_2"] + 0.5}
    scaled_target = {"relu2_2": 10 * target["relu2_2"]}
    scaled_shifted = {"relu2_2": 10 * shifted["relu2_2"]}
    assert content_loss(shifted, target, "relu2_2").numpy() == pytest.approx(
        content_loss(scaled_shifted, scaled_target, "relu2_2").numpy(), rel=1e-5)


@pytest.fixture(scope="module")
def loss_net(tmp_path_factory):
    return load_loss_network(write_vgg_npz(tmp_path_factory.mktemp("vgg") / "vgg.npz"))


def test_style_loss_and_gram_distance_vanish_on_the_style_itself(loss_net, tmp_path):
    painting = load_rgb(write_painting(tmp_path / "painting.png", size=48))
    grams = style_grams(loss_net, painting)
    assert set(grams) == {"relu1_2", "relu2_2"}
    features = loss_net(tf.constant(painting[None], tf.float32))
    assert style_loss(features, grams).numpy() == pytest.approx(0.0, abs=1e-6)
    assert gram_distance(loss_net, painting[None], grams) == pytest.approx(0.0, abs=1e-4)
    flat = np.full((1, 48, 48, 3), 128, np.uint8)
    assert gram_distance(loss_net, flat, grams) > 0.1


def test_perceptual_loss_weights_its_terms(loss_net):
    images = tf.random.stateless_uniform((2, 32, 32, 3), seed=(5, 6), maxval=255.0)
    style = tf.random.stateless_uniform((40, 40, 3), seed=(7, 8), maxval=255.0)
    grams = style_grams(loss_net, style)
    targets = {"relu2_2": loss_net(images[::-1])["relu2_2"]}
    total, terms = perceptual_loss(loss_net, images, targets, grams, 2.0, 3.0, 5.0)
    expected = 2.0 * terms["content"] + 3.0 * terms["style"] + 5.0 * terms["tv"]
    assert total.numpy() == pytest.approx(expected.numpy(), rel=1e-6)
    assert min(float(value) for value in terms.values()) > 0
