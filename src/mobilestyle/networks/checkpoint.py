"""The checkpoint format: one `.npz` file holding the weights, the architecture and metadata.

Layout (NumPy `.npz`, written atomically):
- `__mobilestyle__`: a UTF-8 JSON document (stored as a uint8 array) with
  `format` ("mobilestyle.checkpoint/1"), `arch` (`ArchSpec.to_dict()`), and `meta`: free-form
  metadata such as `style`, `source_painting`, `licence`, `teacher`, `recipe`, `steps`, `quality`,
  `random_weights` (true for untrained nets) and `mobilestyle_version`.
- one array per weight, keyed `<layer name>/<weight name>` (e.g. `conv1/kernel`,
  `conv1_norm/moving_mean`), float32 or float16. Layer names are those of
  `build_transformer_net`, so a checkpoint is independent of the input size.

Training, distillation and pruning write this format; export, the runner's parity check and
`inspect` read it. Optimizer state for `--resume` is kept separately by the trainers.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import keras
import numpy as np

from mobilestyle import __version__
from mobilestyle.errors import UserError
from mobilestyle.files import atomic_path
from mobilestyle.networks.arch import ArchSpec
from mobilestyle.networks.transformer_net import build_transformer_net

CHECKPOINT_FORMAT = "mobilestyle.checkpoint/1"
_HEADER_KEY = "__mobilestyle__"


@dataclass
class Checkpoint:
    arch: ArchSpec
    weights: dict[str, np.ndarray]
    meta: dict[str, Any] = field(default_factory=dict)

    def build_model(self, height: int | None = None, width: int | None = None) -> keras.Model:
        """A Keras model of this architecture for the given input size, with these weights."""
        model = build_transformer_net(self.arch, height, width)
        set_model_weights(model, self.weights)
        return model

    @classmethod
    def from_model(cls, model: keras.Model, arch: ArchSpec, meta: dict[str, Any] | None = None) -> "Checkpoint":
        return cls(arch, model_weights(model), dict(meta or {}))


def model_weights(model: keras.Model) -> dict[str, np.ndarray]:
    return {f"{layer.name}/{weight.name}": np.asarray(weight.numpy())
            for layer in model.layers for weight in layer.weights}


def set_model_weights(model: keras.Model, weights: dict[str, np.ndarray]) -> None:
    expected = {f"{layer.name}/{weight.name}": weight for layer in model.layers for weight in layer.weights}
    missing = sorted(set(expected) - set(weights))
    extra = sorted(set(weights) - set(expected))
    if missing or extra:
        problems = []
        if missing:
            problems.append(f"missing {', '.join(missing[:4])}{' ...' if len(missing) > 4 else ''}")
        if extra:
            problems.append(f"unexpected {', '.join(extra[:4])}{' ...' if len(extra) > 4 else ''}")
        raise UserError(f"checkpoint weights do not match the architecture: {'; '.join(problems)}")
    for key, variable in expected.items():
        value = weights[key]
        if tuple(value.shape) != tuple(variable.shape):
            raise UserError(f"checkpoint weight {key} has shape {tuple(value.shape)}, "
                            f"the architecture needs {tuple(variable.shape)}")
        variable.assign(value.astype(np.float32))


FLOAT16_MAX = float(np.finfo(np.float16).max)


def as_float16(value: np.ndarray) -> np.ndarray:
    """float16 where every value fits; float32 otherwise.

    A first-layer batch norm sees raw 0..255 pixels through a 9x9 conv, and its moving variance can
    exceed float16's 65504: cast blindly it would become inf and silence that channel.
    """
    value = np.asarray(value, np.float32)
    return value.astype(np.float16) if np.all(np.abs(value) <= FLOAT16_MAX) else value


def save_checkpoint(checkpoint: Checkpoint, path: Path, fp16: bool = False) -> Path:
    path = Path(path)
    if path.suffix != ".npz":
        path = path.with_suffix(path.suffix + ".npz") if path.suffix else path.with_suffix(".npz")
    header = {
        "format": CHECKPOINT_FORMAT,
        "arch": checkpoint.arch.to_dict(),
        "meta": {"mobilestyle_version": __version__, **checkpoint.meta},
    }
    arrays = {key: (as_float16(value) if fp16 else np.asarray(value, np.float32))
              for key, value in checkpoint.weights.items()}
    arrays[_HEADER_KEY] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as handle:
            np.savez_compressed(handle, **arrays)
    return path


def load_checkpoint(path: Path) -> Checkpoint:
    path = Path(path)
    if not path.exists():
        raise UserError(f"checkpoint {path} does not exist")
    if path.is_dir():
        raise UserError(f"checkpoint {path} is a folder, expected a .npz file")
    try:
        with np.load(path, allow_pickle=False) as data:
            if _HEADER_KEY not in data.files:
                raise UserError(f"{path} is not a mobilestyle checkpoint (no {_HEADER_KEY} header)")
            header = json.loads(bytes(data[_HEADER_KEY]).decode())
            weights = {key: data[key].astype(np.float32) for key in data.files if key != _HEADER_KEY}
    except UserError:
        raise
    except (OSError, ValueError, zipfile.BadZipFile, EOFError, KeyError, io.UnsupportedOperation) as exc:
        raise UserError(f"{path} is not a readable mobilestyle checkpoint ({type(exc).__name__}: {exc})") from None
    if not isinstance(header, dict) or header.get("format") != CHECKPOINT_FORMAT:
        raise UserError(f"{path} is not a mobilestyle checkpoint (format {header.get('format')!r})")
    arch = ArchSpec.from_dict(header["arch"])
    return Checkpoint(arch, weights, header.get("meta", {}))


_OUTPUT_TARGETS = {"sigmoid": (0.0, 1.5), "tanh150": (0.0, 0.6), "clip": (127.5, 50.0)}


def _calibration_image(height: int = 64, width: int = 96) -> np.ndarray:
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    channels = [127.5 + 127.5 * np.sin(x / 7.0 + phase) * np.cos(y / 5.0 - phase) for phase in (0.0, 1.0, 2.0)]
    return np.stack(channels, axis=-1)[None]


def _calibrate_output(arch: ArchSpec, weights: dict[str, np.ndarray]) -> None:
    """Scale the last layer so that a random net's output spans 0..255 instead of saturating."""
    model = build_transformer_net(arch)
    set_model_weights(model, weights)
    last = model.get_layer("out")
    logits = keras.Model(model.input, last.output)(_calibration_image()).numpy().reshape(-1, 3)
    mean, std = logits.mean(axis=0), logits.std(axis=0) + 1e-6
    target_mean, target_std = _OUTPUT_TARGETS[arch.output]
    if arch.out_norm:
        weights["out_norm/gamma"] = np.full(3, target_std, np.float32)
        weights["out_norm/beta"] = np.full(3, target_mean, np.float32)
        if arch.norm == "batch":
            weights["out_norm/moving_mean"] = mean.astype(np.float32)
            weights["out_norm/moving_variance"] = (std**2).astype(np.float32)
    else:
        scale = target_std / std
        weights["out/kernel"] = (weights["out/kernel"] * scale).astype(np.float32)
        weights["out/bias"] = (target_mean + (weights["out/bias"] - mean) * scale).astype(np.float32)


def random_checkpoint(arch: ArchSpec, seed: int, meta: dict[str, Any] | None = None) -> Checkpoint:
    """An untrained net with deterministic random weights and non-trivial normalization statistics.

    Its output layer is calibrated on a synthetic image so that the output covers 0..255 without
    saturating: useful pictures for app smoke tests, and a demanding case for parity tests.
    """
    keras.utils.set_random_seed(seed)
    model = build_transformer_net(arch)
    model.build((None, None, None, 3))
    rng = np.random.default_rng(seed)
    weights = model_weights(model)
    for key, value in weights.items():
        if key.endswith("/moving_mean"):
            weights[key] = rng.normal(0.0, 0.5, value.shape).astype(np.float32)
        elif key.endswith("/moving_variance"):
            weights[key] = rng.uniform(0.5, 2.0, value.shape).astype(np.float32)
        elif key.endswith("/gamma"):
            weights[key] = rng.uniform(0.5, 1.5, value.shape).astype(np.float32)
        elif key.endswith("/beta") or key.endswith("/bias"):
            weights[key] = rng.normal(0.0, 0.2, value.shape).astype(np.float32)
    _calibrate_output(arch, weights)
    info = {"style": "random", "random_weights": True, "seed": seed, **(meta or {})}
    return Checkpoint(arch, weights, info)
