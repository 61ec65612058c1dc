"""Reference forward passes in plain NumPy (float64), written from the format descriptions.

- `ml5_forward`: lengstrom/fast-style-transfer as described in ../shared/data/teachers/FORMAT.md
  (TF 'SAME' zero padding, conv2d_transpose SAME, instance norm eps 1e-3, tanh*150+127.5).
- `pytorch_examples_forward`: pytorch/examples fast_neural_style TransformerNet (reflection
  padding, nearest x2 upsample + conv, InstanceNorm2d eps 1e-5, conv biases, output clamp 0..255).

Images are HxWx3 RGB in 0..255. These are test oracles: independent of mobilestyle's code.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np


def _conv(x: np.ndarray, kernel: np.ndarray, stride: int, pads: tuple[int, int, int, int], mode: str) -> np.ndarray:
    """x HxWxC, kernel HWIO; pads (top, bottom, left, right) with mode 'constant' or 'reflect'."""
    top, bottom, left, right = pads
    padded = np.pad(x, ((top, bottom), (left, right), (0, 0)), mode=mode)
    kh, kw = kernel.shape[:2]
    windows = np.lib.stride_tricks.sliding_window_view(padded, (kh, kw), axis=(0, 1))[::stride, ::stride]
    return np.tensordot(windows, kernel, axes=([3, 4, 2], [0, 1, 2]))


def conv_same(x: np.ndarray, kernel: np.ndarray, stride: int) -> np.ndarray:
    """TF 'SAME': output ceil(n/stride), total padding split with the extra pixel at the bottom/right."""
    pads = []
    for size, k in zip(x.shape[:2], kernel.shape[:2]):
        total = max((math.ceil(size / stride) - 1) * stride + k - size, 0)
        pads += [total // 2, total - total // 2]
    return _conv(x, kernel, stride, tuple(pads), "constant")


def conv_transpose_same(x: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """TF conv2d_transpose, stride 2, SAME; kernel [H, W, out, in]: full 2H+1 result, keep [:2H, :2W]."""
    height, width, _ = x.shape
    kh, kw, out_channels, _ = kernel.shape
    full = np.zeros((2 * (height - 1) + kh, 2 * (width - 1) + kw, out_channels))
    for i in range(kh):
        for j in range(kw):
            full[i:i + 2 * height - 1:2, j:j + 2 * width - 1:2] += x @ kernel[i, j].T
    return full[:2 * height, :2 * width]


def instance_norm(x: np.ndarray, scale: np.ndarray, shift: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(axis=(0, 1))
    variance = x.var(axis=(0, 1))
    return scale * (x - mean) / np.sqrt(variance + eps) + shift


def read_ml5_variables(folder: Path) -> list[np.ndarray]:
    """The 48 variables of an ml5 folder, in order Variable, Variable_1, ..., Variable_47."""
    manifest = json.loads((Path(folder) / "manifest.json").read_text())
    names = ["Variable"] + [f"Variable_{i}" for i in range(1, 48)]
    return [np.fromfile(Path(folder) / manifest[n]["filename"], dtype="<f4").reshape(manifest[n]["shape"])
            .astype(np.float64) for n in names]


def ml5_forward(variables: list[np.ndarray], image: np.ndarray) -> np.ndarray:
    groups = [variables[i:i + 3] for i in range(0, 48, 3)]  # [kernel, shift, scale] per layer
    relu = lambda v: np.maximum(v, 0)  # noqa: E731

    def conv_layer(x, group, stride, activate=True):
        kernel, shift, scale = group
        y = instance_norm(conv_same(x, kernel, stride), scale, shift, 1e-3)
        return relu(y) if activate else y

    x = image.astype(np.float64)
    x = conv_layer(x, groups[0], 1)
    x = conv_layer(x, groups[1], 2)
    x = conv_layer(x, groups[2], 2)
    for block in range(5):
        y = conv_layer(x, groups[3 + 2 * block], 1)
        x = x + conv_layer(y, groups[4 + 2 * block], 1, activate=False)
    for group in groups[13:15]:
        kernel, shift, scale = group
        x = relu(instance_norm(conv_transpose_same(x, kernel), scale, shift, 1e-3))
    x = conv_layer(x, groups[15], 1, activate=False)
    return np.clip(np.tanh(x) * 150 + 127.5, 0, 255)


def pytorch_examples_forward(state: dict[str, np.ndarray], image: np.ndarray) -> np.ndarray:
    """state: a pytorch/examples TransformerNet state dict as NumPy arrays (OIHW conv weights)."""
    relu = lambda v: np.maximum(v, 0)  # noqa: E731

    def conv_layer(x, name, stride):
        weight, bias = state[f"{name}.conv2d.weight"].astype(np.float64), state[f"{name}.conv2d.bias"]
        pad = weight.shape[-1] // 2
        return _conv(x, weight.transpose(2, 3, 1, 0), stride, (pad, pad, pad, pad), "reflect") + bias

    def norm(x, name):
        return instance_norm(x, state[f"{name}.weight"], state[f"{name}.bias"], 1e-5)

    x = image.astype(np.float64)
    x = relu(norm(conv_layer(x, "conv1", 1), "in1"))
    x = relu(norm(conv_layer(x, "conv2", 2), "in2"))
    x = relu(norm(conv_layer(x, "conv3", 2), "in3"))
    for block in range(1, 6):
        y = relu(norm(conv_layer(x, f"res{block}.conv1", 1), f"res{block}.in1"))
        x = x + norm(conv_layer(y, f"res{block}.conv2", 1), f"res{block}.in2")
    for name, norm_name in (("deconv1", "in4"), ("deconv2", "in5")):
        x = x.repeat(2, axis=0).repeat(2, axis=1)
        x = relu(norm(conv_layer(x, name, 1), norm_name))
    return np.clip(conv_layer(x, "deconv3", 1), 0, 255)
