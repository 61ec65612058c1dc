"""Selecting channels by |gamma|: a kept fraction, a MAC target that the search hits, blocks to drop."""

import numpy as np
import pytest

from mobilestyle.errors import UserError
from mobilestyle.networks.checkpoint import Checkpoint
from mobilestyle.networks.counting import count
from mobilestyle.pruning.blocks import blocks_to_drop, branch_ratios, skip_psnr
from mobilestyle.pruning.groups import channel_groups
from mobilestyle.pruning.slimming import channel_scores, fit_macs, keep_fraction
from mobilestyle.pruning.surgery import slice_channels

from .conftest import sample_images, tiny_checkpoint

HEIGHT, WIDTH = 48, 64


def test_keep_fraction_keeps_the_strongest_channels():
    checkpoint = tiny_checkpoint()
    scores = channel_scores(checkpoint)
    total = sum(len(values) for values in scores.values())
    selection = keep_fraction(checkpoint, 0.5, HEIGHT, WIDTH)
    assert sum(len(indices) for indices in selection.keep.values()) == round(0.5 * total)
    kept = np.concatenate([scores[name][indices] for name, indices in selection.keep.items()])
    dropped = np.concatenate([np.delete(scores[name], selection.keep.get(name, [])) for name in scores])
    leaders = {name: values.max() for name, values in scores.items()}
    assert np.sort(kept)[len(leaders)] >= dropped.max(), "only the groups' forced leaders may be weaker"


@pytest.mark.parametrize("fraction", [0.3, 0.6])
def test_target_macs_is_met_as_closely_as_the_ranking_allows(fraction):
    checkpoint = tiny_checkpoint("conv=separable", seed=4)
    full_macs = count(checkpoint.arch, HEIGHT, WIDTH)[1]
    target = fraction * full_macs
    selection = fit_macs(checkpoint, target, HEIGHT, WIDTH)
    pruned = slice_channels(checkpoint, selection.keep)
    assert pruned.arch == selection.arch
    assert count(pruned.arch, HEIGHT, WIDTH)[1] == selection.macs <= target
    assert selection.macs > 0.85 * target
    bigger = fit_macs(checkpoint, selection.macs * 1.05, HEIGHT, WIDTH)
    assert bigger.macs > selection.macs


def test_target_macs_selection_drops_the_weakest_channels_first():
    checkpoint = tiny_checkpoint(seed=5)
    checkpoint.weights["up2_norm/gamma"][:] = 1.0
    checkpoint.weights["up2_norm/gamma"][1] = 1e-4
    checkpoint.weights["up2_norm/gamma"][4] = 2e-4
    checkpoint.weights["conv1_norm/gamma"][:] = 1.0
    full_macs = count(checkpoint.arch, HEIGHT, WIDTH)[1]
    selection = fit_macs(checkpoint, full_macs - 1, HEIGHT, WIDTH)
    assert selection.keep["up2"].tolist() == [0, 2, 3, 4, 5, 6, 7]
    assert sum(len(indices) for indices in selection.keep.values()) == sum(
        group.width for group in channel_groups(checkpoint.arch)) - 1


def test_unreachable_target_and_bad_fraction_are_user_errors():
    checkpoint = tiny_checkpoint()
    with pytest.raises(UserError, match="remove blocks too"):
        fit_macs(checkpoint, 1000, HEIGHT, WIDTH)
    with pytest.raises(UserError, match="--keep"):
        keep_fraction(checkpoint, 1.5)


def test_a_zeroed_branch_measures_as_identity_and_is_dropped():
    checkpoint = tiny_checkpoint("blocks=3", seed=6)
    checkpoint.weights["res3_conv2_norm/gamma"][:] = 0.0
    checkpoint.weights["res3_conv2_norm/beta"][:] = 0.0
    frames = sample_images(2, HEIGHT, WIDTH).astype(np.uint8)
    ratios = branch_ratios(checkpoint, frames)
    assert ratios[2] == 0.0 and min(ratios[:2]) > 0.05
    assert blocks_to_drop(ratios, 0.01, None) == [3]
    drops = skip_psnr(checkpoint, frames)
    assert drops[2] == 100.0 and max(drops[:2]) < 100.0


def test_blocks_to_drop_keeps_at_least_one_and_honours_keep_blocks():
    assert blocks_to_drop([0.5, 0.01, 0.3], 0.05, None) == [2]
    assert blocks_to_drop([0.5, 0.01, 0.3], 0.0, 1) == [2, 3]
    assert blocks_to_drop([0.01, 0.02], 0.05, None) == [1]


def test_every_group_keeps_a_channel_at_the_smallest_selection():
    checkpoint = tiny_checkpoint()
    smallest = keep_fraction(checkpoint, 1e-6, HEIGHT, WIDTH)
    assert {name: len(indices) for name, indices in smallest.keep.items()} == {
        group.name: 1 for group in channel_groups(checkpoint.arch)}
    assert isinstance(slice_channels(checkpoint, smallest.keep), Checkpoint)
