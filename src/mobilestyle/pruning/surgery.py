"""Exact network surgery on checkpoints: keep a subset of each group's channels, remove residual blocks.

Both return a new `Checkpoint` whose architecture has the smaller widths or fewer blocks and whose
weights are the surviving slices of the old ones; nothing is re-initialised.
"""

from __future__ import annotations

import re

import numpy as np

from mobilestyle.errors import UserError
from mobilestyle.networks.arch import ArchSpec
from mobilestyle.networks.checkpoint import Checkpoint
from mobilestyle.pruning.groups import arch_with_widths, channel_groups

_BLOCK_KEY = re.compile(r"^res(\d+)_(.*)$")


def slice_channels(checkpoint: Checkpoint, keep: dict[str, np.ndarray]) -> Checkpoint:
    """Keep only the listed channel indices of each named group (groups not named keep all)."""
    groups = {group.name: group for group in channel_groups(checkpoint.arch)}
    unknown = sorted(set(keep) - set(groups))
    if unknown:
        raise UserError(f"unknown channel groups: {', '.join(unknown)}")
    weights = dict(checkpoint.weights)
    widths = {}
    for name, indices in keep.items():
        group = groups[name]
        indices = np.unique(np.asarray(indices, dtype=np.int64))
        if len(indices) == 0:
            raise UserError(f"group {name} would keep no channels (every width must be at least 1)")
        if indices[0] < 0 or indices[-1] >= group.width:
            raise UserError(f"group {name} has {group.width} channels; cannot keep index {indices[-1]}")
        for key, axis in group.slices:
            weights[key] = np.take(weights[key], indices, axis=axis)
        widths[name] = len(indices)
    return Checkpoint(arch_with_widths(checkpoint.arch, widths), weights, dict(checkpoint.meta))


def remove_blocks(checkpoint: Checkpoint, drop: list[int]) -> Checkpoint:
    """Remove residual blocks (numbered from 1) and renumber the rest res1, res2, ..."""
    arch = checkpoint.arch
    drop = sorted(set(drop))
    if any(not 1 <= block <= arch.blocks for block in drop):
        raise UserError(f"the net has blocks 1..{arch.blocks}; cannot remove {drop}")
    survivors = [block for block in range(1, arch.blocks + 1) if block not in drop]
    if not survivors:
        raise UserError("cannot remove every residual block (a net keeps at least one)")
    new_number = {old: new for new, old in enumerate(survivors, start=1)}
    weights = {}
    for key, value in checkpoint.weights.items():
        match = _BLOCK_KEY.match(key)
        if match is None:
            weights[key] = value
        elif int(match.group(1)) in new_number:
            weights[f"res{new_number[int(match.group(1))]}_{match.group(2)}"] = value
    new_arch = ArchSpec.from_dict({**arch.to_dict(), "blocks": len(survivors),
                                   "block_widths": [arch.block_widths[block - 1] for block in survivors]})
    return Checkpoint(new_arch, weights, dict(checkpoint.meta))
