"""Parity: does the exported file, run by the Linux runner, compute what the Keras model computes?"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import tensorflow as tf

from mobilestyle import frame
from mobilestyle.networks.checkpoint import Checkpoint
from mobilestyle.runner.model_runner import ModelRunner


def keras_reference(checkpoint: Checkpoint, rgb: np.ndarray, align_corners: bool = False) -> np.ndarray:
    """The Keras net at 853x480 followed by the bilinear 1080p resize the exported model does (float, 0..255)."""
    net = checkpoint.build_model(frame.INPUT_HEIGHT, frame.INPUT_WIDTH)
    small = net(rgb[None].astype(np.float32))
    size = (frame.OUTPUT_HEIGHT, frame.OUTPUT_WIDTH)
    if align_corners:
        big = tf.compat.v1.image.resize_bilinear(small, size, align_corners=True)
    else:
        big = tf.image.resize(small, size, method="bilinear")
    return np.clip(big.numpy()[0], 0, 255)


def max_abs_error(checkpoint: Checkpoint, model: Path | ModelRunner, rgb: np.ndarray,
                  align_corners: bool = False) -> tuple[float, np.ndarray]:
    """(max |runner - Keras| on 0..255, the runner's uint8 output) for one input frame."""
    runner = model if isinstance(model, ModelRunner) else ModelRunner(model)
    stylized = runner.run(rgb)
    reference = keras_reference(checkpoint, rgb, align_corners)
    return float(np.abs(stylized.astype(np.float32) - reference).max()), stylized
