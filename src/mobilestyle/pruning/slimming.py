"""Network slimming (Liu et al. 2017): score channels by |batch-norm gamma|, keep the strongest.

A channel's score is the largest |gamma| among the norms of its group (a trunk channel is only
silent when conv3 and every block's second conv leave it silent). Channels are ranked globally;
`keep_fraction` keeps the top fraction of all prunable channels, `fit_macs` keeps as many as fit a
MAC budget (a binary search over the global ranking, using the exact MAC counter). Every group keeps
at least its strongest channel.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mobilestyle import frame
from mobilestyle.errors import UserError
from mobilestyle.networks.arch import ArchSpec
from mobilestyle.networks.checkpoint import Checkpoint
from mobilestyle.networks.counting import count
from mobilestyle.pruning.groups import arch_with_widths, channel_groups


@dataclass(frozen=True)
class Selection:
    keep: dict[str, np.ndarray]
    arch: ArchSpec
    macs: int


def channel_scores(checkpoint: Checkpoint) -> dict[str, np.ndarray]:
    """Per group, the largest |gamma| of each channel over the group's norms."""
    return {group.name: np.max([np.abs(checkpoint.weights[f"{norm}/gamma"]) for norm in group.norms], axis=0)
            for group in channel_groups(checkpoint.arch)}


def _ranking(scores: dict[str, np.ndarray]) -> list[tuple[str, int]]:
    """Every (group, channel), strongest first; each group's strongest channel leads (it is always kept)."""
    leaders = [(name, int(np.argmax(values))) for name, values in scores.items()]
    rest = [(float(values[index]), name, index) for name, values in scores.items()
            for index in range(len(values)) if index != int(np.argmax(values))]
    rest.sort(key=lambda item: (-item[0], item[1], item[2]))
    return leaders + [(name, index) for _, name, index in rest]


def _selection(checkpoint: Checkpoint, ranking: list[tuple[str, int]], kept: int,
               height: int, width: int) -> Selection:
    chosen: dict[str, list[int]] = {}
    for name, index in ranking[:kept]:
        chosen.setdefault(name, []).append(index)
    keep = {name: np.array(sorted(indices)) for name, indices in chosen.items()}
    arch = arch_with_widths(checkpoint.arch, {name: len(indices) for name, indices in keep.items()})
    return Selection(keep, arch, count(arch, height, width)[1])


def keep_fraction(checkpoint: Checkpoint, fraction: float, height: int = frame.INPUT_HEIGHT,
                  width: int = frame.INPUT_WIDTH) -> Selection:
    if not 0 < fraction <= 1:
        raise UserError(f"--keep must be a fraction in (0, 1], got {fraction}")
    ranking = _ranking(channel_scores(checkpoint))
    kept = max(len(channel_groups(checkpoint.arch)), round(fraction * len(ranking)))
    return _selection(checkpoint, ranking, kept, height, width)


def fit_macs(checkpoint: Checkpoint, target_macs: float, height: int = frame.INPUT_HEIGHT,
             width: int = frame.INPUT_WIDTH) -> Selection:
    """The largest global top-k selection whose MACs per frame are at most `target_macs`."""
    ranking = _ranking(channel_scores(checkpoint))
    low = len(channel_groups(checkpoint.arch))
    smallest = _selection(checkpoint, ranking, low, height, width)
    if smallest.macs > target_macs:
        raise UserError(f"--target-macs {target_macs / 1e9:g} G is below the smallest net this one can be slimmed "
                        f"to with {checkpoint.arch.blocks} blocks ({smallest.macs / 1e9:.3f} G); remove blocks too")
    best, high = smallest, len(ranking)
    while low < high:
        middle = (low + high + 1) // 2
        candidate = _selection(checkpoint, ranking, middle, height, width)
        if candidate.macs <= target_macs:
            best, low = candidate, middle
        else:
            high = middle - 1
    return best
