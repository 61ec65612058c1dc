"""Channel groups and exact surgery: silent channels and silent blocks can be cut without changing the output."""

import numpy as np
import pytest

from mobilestyle.errors import UserError
from mobilestyle.networks.arch import ArchSpec
from mobilestyle.networks.checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from mobilestyle.pruning.groups import channel_groups
from mobilestyle.pruning.slimming import channel_scores
from mobilestyle.pruning.surgery import remove_blocks, slice_channels

from .conftest import sample_images, tiny_checkpoint

VARIANTS = ["", "conv=separable", "upsample=transposed,padding=zero", "conv=separable,padding=zero"]


def _outputs(checkpoint: Checkpoint, images: np.ndarray) -> np.ndarray:
    height, width = images.shape[1:3]
    return checkpoint.build_model(height, width)(images, training=False).numpy()


def _silence(checkpoint: Checkpoint, silenced: dict[str, list[int]]) -> Checkpoint:
    """Set gamma = beta = 0 in every norm of the given channels: they output exactly 0."""
    weights = {key: value.copy() for key, value in checkpoint.weights.items()}
    for group in channel_groups(checkpoint.arch):
        for norm in group.norms:
            for weight in ("gamma", "beta"):
                weights[f"{norm}/{weight}"][silenced.get(group.name, [])] = 0.0
    return Checkpoint(checkpoint.arch, weights, checkpoint.meta)


def test_trunk_is_one_group_over_conv3_and_every_second_block_conv():
    groups = {group.name: group for group in channel_groups(ArchSpec.parse("blocks=3,width=0.25"))}
    assert groups["trunk"].norms == ("conv3_norm", "res1_conv2_norm", "res2_conv2_norm", "res3_conv2_norm")
    assert set(groups) == {"conv1", "conv2", "trunk", "res1_inner", "res2_inner", "res3_inner", "up1", "up2"}


def test_trunk_channel_scores_by_its_strongest_norm():
    checkpoint = tiny_checkpoint()
    checkpoint.weights["conv3_norm/gamma"][5] = 0.0
    checkpoint.weights["res1_conv2_norm/gamma"][5] = 0.0
    checkpoint.weights["res2_conv2_norm/gamma"][5] = -0.7
    assert channel_scores(checkpoint)["trunk"][5] == pytest.approx(0.7)


def test_slicing_the_trunk_narrows_every_layer_that_touches_it():
    checkpoint = tiny_checkpoint("conv=separable")
    pruned = slice_channels(checkpoint, {"trunk": np.arange(0, 32, 2)})
    weights = pruned.weights
    assert pruned.arch.widths[2] == 16 and pruned.arch.block_widths == (32, 32)
    assert weights["conv3/kernel"].shape[3] == 16 and weights["up1/kernel"].shape[2] == 16
    for block in (1, 2):
        assert weights[f"res{block}_conv1_dw/kernel"].shape[2] == 16
        assert weights[f"res{block}_conv1_pw/kernel"].shape[2] == 16
        assert weights[f"res{block}_conv2_pw/kernel"].shape[3] == 16
        assert weights[f"res{block}_conv2_norm/moving_mean"].shape == (16,)
    np.testing.assert_array_equal(weights["conv3_norm/gamma"], checkpoint.weights["conv3_norm/gamma"][::2])


@pytest.mark.parametrize("variant", VARIANTS)
def test_removing_silent_channels_keeps_the_output(variant):
    checkpoint = tiny_checkpoint(variant, seed=1)
    silenced = {"conv1": [0, 3], "conv2": [1, 2, 15], "trunk": [0, 7, 8, 31], "res1_inner": [4, 5],
                "res2_inner": [0], "up1": [9], "up2": [2, 7]}
    silent = _silence(checkpoint, silenced)
    keep = {group.name: np.setdiff1d(np.arange(group.width), silenced[group.name])
            for group in channel_groups(checkpoint.arch)}
    pruned = slice_channels(silent, keep)
    assert pruned.arch.widths == (6, 13, 28) and pruned.arch.block_widths == (30, 31)
    assert pruned.arch.up_widths == (15, 6)
    images = sample_images()
    expected = _outputs(silent, images)
    assert np.abs(expected - _outputs(checkpoint, images)).max() > 1.0
    np.testing.assert_allclose(_outputs(pruned, images), expected, atol=1e-3, rtol=0)


def test_removing_live_channels_changes_the_output():
    checkpoint = tiny_checkpoint(seed=2)
    pruned = slice_channels(checkpoint, {"trunk": np.arange(1, 32)})
    images = sample_images()
    assert np.abs(_outputs(pruned, images) - _outputs(checkpoint, images)).max() > 0.1


@pytest.mark.parametrize("variant", ["", "conv=separable"])
def test_removing_a_block_with_a_zeroed_branch_keeps_the_output(variant):
    checkpoint = tiny_checkpoint("blocks=3," + variant if variant else "blocks=3", seed=3)
    weights = {key: value.copy() for key, value in checkpoint.weights.items()}
    weights["res2_conv2_norm/gamma"][:] = 0.0
    weights["res2_conv2_norm/beta"][:] = 0.0
    silent = Checkpoint(checkpoint.arch, weights, checkpoint.meta)
    removed = remove_blocks(silent, [2])
    assert removed.arch.blocks == 2 and not any(key.startswith("res3_") for key in removed.weights)
    np.testing.assert_array_equal(removed.weights["res2_conv1_norm/gamma"], weights["res3_conv1_norm/gamma"])
    images = sample_images()
    np.testing.assert_allclose(_outputs(removed, images), _outputs(silent, images), atol=1e-3, rtol=0)
    assert np.abs(_outputs(remove_blocks(checkpoint, [2]), images) - _outputs(checkpoint, images)).max() > 0.1


def test_block_removal_keeps_uneven_inner_widths():
    checkpoint = slice_channels(tiny_checkpoint("blocks=3"), {"res1_inner": [0, 1], "res3_inner": np.arange(5)})
    removed = remove_blocks(checkpoint, [2])
    assert removed.arch.block_widths == (2, 5)
    assert removed.weights["res2_conv2/kernel"].shape[2] == 5


def test_pruned_checkpoint_round_trips(tmp_path):
    checkpoint = tiny_checkpoint()
    pruned = remove_blocks(slice_channels(checkpoint, {"conv1": [1, 2, 3], "trunk": np.arange(0, 32, 3),
                                                       "res2_inner": [7], "up2": [0, 5]}), [1])
    path = save_checkpoint(pruned, tmp_path / "pruned.npz")
    loaded = load_checkpoint(path)
    assert loaded.arch == pruned.arch and str(loaded.arch) == str(pruned.arch)
    assert loaded.arch.widths == (3, 16, 11) and loaded.arch.block_widths == (1,) and loaded.arch.up_widths == (16, 2)
    images = sample_images(1)
    np.testing.assert_array_equal(_outputs(loaded, images), _outputs(pruned, images))


def test_surgery_errors():
    checkpoint = tiny_checkpoint()
    with pytest.raises(UserError, match="no channels"):
        slice_channels(checkpoint, {"conv1": []})
    with pytest.raises(UserError, match="has 8 channels"):
        slice_channels(checkpoint, {"conv1": [8]})
    with pytest.raises(UserError, match="unknown channel groups"):
        slice_channels(checkpoint, {"res9_inner": [0]})
    with pytest.raises(UserError, match="at least one"):
        remove_blocks(checkpoint, [1, 2])
    with pytest.raises(UserError, match="blocks 1..2"):
        remove_blocks(checkpoint, [3])


def test_instance_norm_nets_cannot_be_slimmed():
    with pytest.raises(UserError, match="slimming needs batch norm"):
        channel_groups(ArchSpec.parse("blocks=1,width=0.25,norm=instance"))
