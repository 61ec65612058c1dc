"""Importing pretrained fast-style-transfer nets ("teachers") as mobilestyle checkpoints.

Two formats are understood:

- ml5 / deeplearn.js folders (lengstrom/fast-style-transfer conversions): `manifest.json` maps
  `Variable`, `Variable_1` ... `Variable_47` to raw little-endian float32 files. The variables come
  in order [conv kernel (HWIO; transposed convs H,W,out,in), IN shift, IN scale] for 16 layers.
  That net is exactly `LENGSTROM_ARCH`: TF 'SAME' zero padding, transposed-conv upsampling,
  instance norm (eps 1e-3) after every conv including the last, output tanh*150+127.5.
- pytorch/examples fast_neural_style `.pth` state dicts (optional: needs torch, loaded with
  `weights_only=True`). That net is `PYTORCH_EXAMPLES_ARCH`: reflection padding, nearest-upsample
  + conv, affine InstanceNorm2d (eps 1e-5), raw conv output clipped to 0..255. The conv biases in
  front of an instance norm are dropped: the norm subtracts the per-channel mean, so they cancel.

`load_teacher` also accepts a mobilestyle checkpoint (`.npz`).
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math
from pathlib import Path

import numpy as np

from mobilestyle.errors import UserError
from mobilestyle.networks.arch import ArchSpec
from mobilestyle.networks.checkpoint import Checkpoint, load_checkpoint

LENGSTROM_ARCH = ArchSpec(blocks=5, widths=(32, 64, 128), norm="instance", upsample="transposed",
                          padding="zero", output="tanh150", out_norm=True, eps=1e-3)
PYTORCH_EXAMPLES_ARCH = ArchSpec(blocks=5, widths=(32, 64, 128), norm="instance", upsample="nearest",
                                 padding="reflect", output="clip", eps=1e-5)

_RESIDUAL_CONVS = [f"res{block}_conv{conv}" for block in range(1, 6) for conv in (1, 2)]
# mobilestyle layer names in the order lengstrom's transform.py creates them.
LENGSTROM_LAYERS = ["conv1", "conv2", "conv3", *_RESIDUAL_CONVS, "up1", "up2", "out"]
# (shape of the conv kernel in mobilestyle's HWIO / Keras Conv2DTranspose layout) per layer.
_LENGSTROM_KERNELS = {"conv1": (9, 9, 3, 32), "conv2": (3, 3, 32, 64), "conv3": (3, 3, 64, 128),
                      **{name: (3, 3, 128, 128) for name in _RESIDUAL_CONVS},
                      "up1": (3, 3, 64, 128), "up2": (3, 3, 32, 64), "out": (9, 9, 32, 3)}

# pytorch/examples module name -> (mobilestyle conv layer, mobilestyle norm layer or None).
_PYTORCH_LAYERS = {
    "conv1": ("conv1", "in1"), "conv2": ("conv2", "in2"), "conv3": ("conv3", "in3"),
    **{f"res{block}.conv{conv}": (f"res{block}_conv{conv}", f"res{block}.in{conv}")
       for block in range(1, 6) for conv in (1, 2)},
    "deconv1": ("up1", "in4"), "deconv2": ("up2", "in5"), "deconv3": ("out", None),
}
_NORM_STATS_SUFFIXES = (".running_mean", ".running_var", ".num_batches_tracked")


def ml5_variable_names() -> list[str]:
    return ["Variable"] + [f"Variable_{index}" for index in range(1, 3 * len(LENGSTROM_LAYERS))]


def ml5_weight_keys() -> list[str]:
    """The mobilestyle weight key of each ml5 variable, in variable order."""
    keys = []
    for layer in LENGSTROM_LAYERS:
        keys += [f"{layer}/kernel", f"{layer}_norm/beta", f"{layer}_norm/gamma"]
    return keys


def ml5_shape(key: str) -> tuple[int, ...]:
    layer, weight = key.split("/")
    if weight == "kernel":
        return _LENGSTROM_KERNELS[layer]
    return (_LENGSTROM_KERNELS[layer.removesuffix("_norm")][-2 if layer.startswith("up") else -1],)


def load_ml5_teacher(folder: Path) -> Checkpoint:
    """Read an ml5 / deeplearn.js style-transfer folder (manifest.json + raw float32 files)."""
    folder = Path(folder)
    manifest_path = folder / "manifest.json"
    if not folder.is_dir():
        raise UserError(f"teacher folder {folder} does not exist")
    if not manifest_path.is_file():
        raise UserError(f"teacher folder {folder} has no manifest.json")
    try:
        manifest = json.loads(manifest_path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UserError(f"{manifest_path} is not valid JSON ({exc})") from None
    if not isinstance(manifest, dict):
        raise UserError(f"{manifest_path} must be a JSON object mapping variable names to files")

    weights = {}
    root = folder.resolve()
    for name, key in zip(ml5_variable_names(), ml5_weight_keys()):
        entry = manifest.get(name)
        if not isinstance(entry, dict) or not isinstance(entry.get("filename"), str) \
                or not isinstance(entry.get("shape"), list):
            raise UserError(f"{manifest_path}: entry {name!r} is missing or lacks a filename and a shape "
                            f"(is this a lengstrom/ml5 style-transfer manifest?)")
        expected = ml5_shape(key)
        if tuple(entry["shape"]) != expected:
            raise UserError(f"{manifest_path}: {name} ({key}) has shape {entry['shape']}, "
                            f"a lengstrom TransformerNet needs {list(expected)}")
        path = (folder / entry["filename"]).resolve()
        if root not in path.parents:
            raise UserError(f"{manifest_path}: {name} points outside the teacher folder ({entry['filename']!r})")
        if not path.is_file():
            raise UserError(f"teacher variable file {path.name} ({name}) is missing from {folder}")
        size = path.stat().st_size
        needed = 4 * math.prod(expected)
        if size != needed:
            raise UserError(f"teacher variable file {path.name} ({name}) has {size} bytes, "
                            f"shape {list(expected)} needs {needed}")
        weights[key] = np.fromfile(path, dtype="<f4").reshape(expected).astype(np.float32)
    unexpected = sorted(set(manifest) - set(ml5_variable_names()))
    if unexpected:
        raise UserError(f"{manifest_path} has variables a lengstrom TransformerNet does not have: "
                        f"{', '.join(unexpected[:4])}")
    meta = {"style": folder.name, "teacher": f"ml5:{folder.name}", "teacher_format": "ml5"}
    return Checkpoint(LENGSTROM_ARCH, weights, meta)


def load_pytorch_teacher(path: Path) -> Checkpoint:
    """Read a pytorch/examples fast_neural_style TransformerNet state dict (`.pth`)."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"teacher file {path} does not exist")
    try:
        import torch
    except ImportError:
        raise UserError("reading a PyTorch .pth teacher needs torch: pip install 'mobilestyle[torch]'") from None
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for a bad file (pickle, zip, runtime errors)
        raise UserError(f"{path} is not a readable PyTorch weights file ({type(exc).__name__})") from None
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]
    if not isinstance(state, dict) or not all(hasattr(value, "numpy") for value in state.values()):
        raise UserError(f"{path} is not a PyTorch state dict of tensors")
    arrays = {key.removeprefix("module."): value.detach().float().numpy() for key, value in state.items()
              if not key.endswith(_NORM_STATS_SUFFIXES)}
    return pytorch_state_to_checkpoint(arrays, source=path)


def pytorch_state_to_checkpoint(state: dict[str, np.ndarray], source: Path | str = "state dict") -> Checkpoint:
    """Map a pytorch/examples TransformerNet state dict (NumPy arrays, no norm statistics) to a checkpoint."""
    weights = {}
    used = set()
    for module, (layer, norm) in _PYTORCH_LAYERS.items():
        kernel_key = f"{module}.conv2d.weight"
        if kernel_key not in state:
            raise UserError(f"{source} is not a pytorch/examples TransformerNet: it has no {kernel_key}")
        kernel = state[kernel_key]
        if kernel.ndim != 4:
            raise UserError(f"{source}: {kernel_key} has shape {list(kernel.shape)}, expected a 4-D conv weight")
        weights[f"{layer}/kernel"] = kernel.transpose(2, 3, 1, 0)
        used |= {kernel_key, f"{module}.conv2d.bias"}
        if norm is None:
            bias = state.get(f"{module}.conv2d.bias")
            weights[f"{layer}/bias"] = np.zeros(kernel.shape[0], np.float32) if bias is None else bias
            continue
        for torch_name, keras_name in (("weight", "gamma"), ("bias", "beta")):
            key = f"{norm}.{torch_name}"
            if key not in state:
                raise UserError(f"{source} is not a pytorch/examples TransformerNet: it has no {key} "
                                f"(InstanceNorm2d must be affine)")
            weights[f"{layer}_norm/{keras_name}"] = state[key]
            used.add(key)
    unexpected = sorted(set(state) - used)
    if unexpected:
        raise UserError(f"{source} is not a pytorch/examples TransformerNet: unexpected {', '.join(unexpected[:4])}")
    expected_kernels = {"conv1": (9, 9, 3, 32), "conv2": (3, 3, 32, 64), "conv3": (3, 3, 64, 128),
                        **{name: (3, 3, 128, 128) for name in _RESIDUAL_CONVS},
                        "up1": (3, 3, 128, 64), "up2": (3, 3, 64, 32), "out": (9, 9, 32, 3)}
    for layer, shape in expected_kernels.items():
        got = weights[f"{layer}/kernel"].shape
        if got != shape:
            raise UserError(f"{source}: layer {layer} has kernel shape {got} (HWIO), the pytorch/examples "
                            f"TransformerNet needs {shape}")
    for layer in expected_kernels:
        channels = weights[f"{layer}/kernel"].shape[-1]
        for key in (f"{layer}_norm/gamma", f"{layer}_norm/beta", f"{layer}/bias"):
            if key in weights and weights[key].shape != (channels,):
                raise UserError(f"{source}: {key} has shape {weights[key].shape}, its conv has {channels} channels")
    weights = {key: np.ascontiguousarray(value, dtype=np.float32) for key, value in weights.items()}
    name = Path(str(source)).stem
    meta = {"style": name, "teacher": f"pytorch:{Path(str(source)).name}", "teacher_format": "pytorch"}
    return Checkpoint(PYTORCH_EXAMPLES_ARCH, weights, meta)


def load_teacher(path: Path) -> Checkpoint:
    """A teacher from an ml5 folder, a pytorch/examples `.pth`/`.model` file or a mobilestyle `.npz`."""
    path = Path(path)
    if path.is_dir():
        return load_ml5_teacher(path)
    if not path.exists():
        raise UserError(f"teacher {path} does not exist")
    if path.suffix in (".pth", ".pt", ".model"):
        return load_pytorch_teacher(path)
    if path.suffix == ".npz":
        return load_checkpoint(path)
    if path.name == "manifest.json":
        return load_ml5_teacher(path.parent)
    raise UserError(f"teacher {path}: expected an ml5 folder with manifest.json, a .pth file or a .npz checkpoint")


def keep_blocks(teacher: Checkpoint, blocks: tuple[int, ...]) -> Checkpoint:
    """The teacher with only the given residual blocks (1-based, in order), renumbered 1..len(blocks)."""
    arch = dataclasses.replace(teacher.arch, blocks=len(blocks),
                               block_widths=tuple(teacher.arch.block_widths[old - 1] for old in blocks))
    weights = {key: value for key, value in teacher.weights.items() if not key.startswith("res")}
    for new, old in enumerate(blocks, start=1):
        for key, value in teacher.weights.items():
            if key.startswith(f"res{old}_"):
                weights[f"res{new}_{key.split('_', 1)[1]}"] = value
    return Checkpoint(arch, weights, teacher.meta)


@functools.cache
def _resize_conv_taps() -> np.ndarray:
    """(9, 9): the nearest-resize + 3x3 conv taps that best stand in for each tap of a stride-2 transposed conv.

    Fitted by least squares on random inputs (interior pixels), one channel: the map is the same for
    every input/output channel pair, so it converts whole kernels.
    """
    import tensorflow as tf

    rng = np.random.default_rng(0)
    x = rng.normal(size=(1, 12, 12, 1)).astype(np.float32)
    upsampled = np.repeat(np.repeat(x, 2, axis=1), 2, axis=2)
    patches = tf.image.extract_patches(upsampled, [1, 3, 3, 1], [1, 1, 1, 1], [1, 1, 1, 1], "SAME")
    design = patches.numpy()[0, 2:-2, 2:-2].reshape(-1, 9)
    rows = []
    for tap in range(9):
        kernel = np.zeros((3, 3, 1, 1), np.float32)
        kernel.flat[tap] = 1.0
        target = tf.nn.conv2d_transpose(x, kernel, (1, 24, 24, 1), strides=2, padding="SAME").numpy()
        rows.append(np.linalg.lstsq(design, target[0, 2:-2, 2:-2, 0].reshape(-1), rcond=None)[0])
    return np.array(rows)


def resize_conv_kernel(transposed: np.ndarray) -> np.ndarray:
    """A stride-2 transposed-conv kernel (3, 3, out, in) as the closest nearest-resize + conv kernel (3, 3, in, out)."""
    out_channels, in_channels = transposed.shape[2:]
    taps = np.tensordot(_resize_conv_taps().T, transposed.reshape(9, out_channels, in_channels), axes=1)
    return np.transpose(taps.reshape(3, 3, out_channels, in_channels), (0, 1, 3, 2)).astype(transposed.dtype)
