"""Random training crops that depend only on (seed, step, index), so a resumed run sees the same data."""

import numpy as np
import tensorflow as tf


def crop_batches(images: np.ndarray, crop: int, batch_size: int, seed: int, start_step: int) -> tf.data.Dataset:
    """Float32 batches of random `crop` x `crop` crops (all channels) with random left-right flips.

    Crop n of step s depends only on (seed, s, n). Images may stack several aligned pictures along
    the channel axis (a photo and its teacher's frame) so that they are cropped together.
    """
    frames = tf.constant(images)
    count = len(images)
    channels = images.shape[-1]

    def one_crop(index):
        pair_seed = tf.stack([tf.constant(seed, tf.int64), index])
        pick = tf.random.stateless_uniform([], pair_seed, 0, count, dtype=tf.int64)
        patch = tf.image.stateless_random_crop(frames[pick], [crop, crop, channels], pair_seed + 1)
        patch = tf.image.stateless_random_flip_left_right(patch, pair_seed + 2)
        return tf.cast(patch, tf.float32)

    first = start_step * batch_size
    return (tf.data.Dataset.range(first, first + 2**40)
            .map(one_crop, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
            .batch(batch_size, drop_remainder=True)
            .prefetch(2))
