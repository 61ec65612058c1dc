"""Resumable training state: the net's weights, the optimizer's variables and a JSON header, in one .npz.

Written atomically, so an interrupted save never leaves a broken state behind.
"""

from __future__ import annotations

import json
from pathlib import Path

import keras
import numpy as np

from mobilestyle.errors import UserError
from mobilestyle.files import atomic_path
from mobilestyle.networks.arch import ArchSpec
from mobilestyle.networks.checkpoint import model_weights, set_model_weights


def save_state(path: Path, net: keras.Model, optimizer: keras.optimizers.Optimizer, header: dict) -> None:
    """`header` must hold `format` and `arch` (`ArchSpec.to_dict()`); anything else JSON-serialisable may follow."""
    arrays = {f"weight/{key}": value for key, value in model_weights(net).items()}
    arrays.update({f"optimizer/{index}": np.asarray(variable.numpy()) for index, variable in enumerate(optimizer.variables)})
    arrays["header"] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as handle:
            np.savez(handle, **arrays)


def load_state(path: Path, net: keras.Model, optimizer: keras.optimizers.Optimizer, state_format: str,
               arch: ArchSpec, kind: str) -> dict:
    """Restore weights and optimizer variables saved by `save_state`; returns the header.

    `kind` names the state in messages ("training", "distillation").
    """
    if not path.is_file():
        raise UserError(f"--resume: no saved {kind} state at {path} (run without --resume first)")
    try:
        with np.load(path, allow_pickle=False) as data:
            header = json.loads(bytes(data["header"]).decode())
            weights = {key.removeprefix("weight/"): data[key] for key in data.files if key.startswith("weight/")}
            slots = [data[f"optimizer/{index}"] for index in range(len(optimizer.variables))
                     if f"optimizer/{index}" in data.files]
    except (OSError, ValueError, KeyError, EOFError) as exc:
        raise UserError(f"--resume: {path} is not a readable {kind} state ({type(exc).__name__})") from None
    if not isinstance(header, dict) or header.get("format") != state_format:
        raise UserError(f"--resume: {path} is not a {kind} state")
    saved_arch = ArchSpec.from_dict(header["arch"])
    if saved_arch != arch:
        raise UserError(f"--resume: the saved net is {saved_arch}, not {arch}")
    if len(slots) != len(optimizer.variables):
        raise UserError(f"--resume: {path} holds {len(slots)} optimizer variables, expected {len(optimizer.variables)}")
    set_model_weights(net, weights)
    for variable, value in zip(optimizer.variables, slots):
        variable.assign(value)
    return header
