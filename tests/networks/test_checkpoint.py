import dataclasses

import numpy as np
import pytest

from mobilestyle.errors import UserError
from mobilestyle.networks.arch import ArchSpec
from mobilestyle.networks.checkpoint import load_checkpoint, random_checkpoint, save_checkpoint

SMALL = ArchSpec.parse("blocks=1,widths=8/16/24,norm=batch")


def test_round_trip_keeps_weights_arch_and_meta(tmp_path):
    ckpt = random_checkpoint(SMALL, seed=3, meta={"style": "test"})
    path = save_checkpoint(ckpt, tmp_path / "net.npz")
    loaded = load_checkpoint(path)
    assert loaded.arch == SMALL and loaded.meta["style"] == "test" and loaded.meta["random_weights"] is True
    assert loaded.weights.keys() == ckpt.weights.keys()
    for key in ckpt.weights:
        np.testing.assert_array_equal(loaded.weights[key], ckpt.weights[key])


def test_antialias_twins_share_weight_names_and_shapes(tmp_path):
    plain = random_checkpoint(SMALL, seed=4)
    antialiased_arch = dataclasses.replace(SMALL, antialias=True)
    antialiased = random_checkpoint(antialiased_arch, seed=4)
    assert {k: v.shape for k, v in antialiased.weights.items()} == {k: v.shape for k, v in plain.weights.items()}
    loaded = load_checkpoint(save_checkpoint(antialiased, tmp_path / "aa.npz"))
    assert loaded.arch == antialiased_arch and loaded.arch.antialias
    image = np.random.default_rng(0).uniform(0, 255, (1, 32, 48, 3)).astype(np.float32)
    plain_weights_in_antialiased_net = dataclasses.replace(plain, arch=antialiased_arch).build_model(32, 48)
    assert plain_weights_in_antialiased_net(image).shape == (1, 32, 48, 3)


def test_same_seed_same_weights_and_nontrivial_batchnorm_statistics():
    a, b = random_checkpoint(SMALL, 1), random_checkpoint(SMALL, 1)
    for key in a.weights:
        np.testing.assert_array_equal(a.weights[key], b.weights[key])
    assert np.abs(a.weights["conv1_norm/moving_mean"]).max() > 0.05


def test_fp16_checkpoint_is_smaller_and_close(tmp_path):
    ckpt = random_checkpoint(ArchSpec(), seed=0)
    full = save_checkpoint(ckpt, tmp_path / "full.npz")
    half = save_checkpoint(ckpt, tmp_path / "half.npz", fp16=True)
    assert half.stat().st_size < 0.6 * full.stat().st_size
    loaded = load_checkpoint(half)
    np.testing.assert_allclose(loaded.weights["conv1/kernel"], ckpt.weights["conv1/kernel"], rtol=1e-3, atol=1e-4)


def test_model_built_from_checkpoint_reproduces_outputs(tmp_path):
    ckpt = random_checkpoint(SMALL, seed=2)
    image = np.random.default_rng(0).uniform(0, 255, (1, 32, 48, 3)).astype(np.float32)
    before = ckpt.build_model(32, 48)(image).numpy()
    after = load_checkpoint(save_checkpoint(ckpt, tmp_path / "n.npz")).build_model(32, 48)(image).numpy()
    np.testing.assert_array_equal(before, after)


@pytest.mark.parametrize("content, message", [
    (b"", "not a readable mobilestyle checkpoint"),
    (b"garbage", "not a readable mobilestyle checkpoint"),
])
def test_corrupt_files_are_user_errors(tmp_path, content, message):
    path = tmp_path / "bad.npz"
    path.write_bytes(content)
    with pytest.raises(UserError, match=message):
        load_checkpoint(path)


def test_truncated_checkpoint_is_a_user_error(tmp_path):
    path = save_checkpoint(random_checkpoint(SMALL, 0), tmp_path / "n.npz")
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(UserError):
        load_checkpoint(path)


def test_foreign_npz_and_missing_file_are_user_errors(tmp_path):
    np.savez(tmp_path / "foreign.npz", a=np.zeros(3))
    with pytest.raises(UserError, match="not a mobilestyle checkpoint"):
        load_checkpoint(tmp_path / "foreign.npz")
    with pytest.raises(UserError, match="does not exist"):
        load_checkpoint(tmp_path / "missing.npz")


def test_weights_that_do_not_fit_the_arch_are_user_errors():
    ckpt = random_checkpoint(SMALL, 0)
    ckpt.weights["conv1/kernel"] = np.zeros((3, 3, 3, 8), np.float32)
    with pytest.raises(UserError, match="conv1/kernel has shape"):
        ckpt.build_model(32, 32)
    del ckpt.weights["conv1/kernel"]
    with pytest.raises(UserError, match="missing conv1/kernel"):
        ckpt.build_model(32, 32)


def test_fp16_checkpoint_keeps_values_beyond_float16_range_in_float32(tmp_path):
    ckpt = random_checkpoint(ArchSpec(), seed=0)
    variance = ckpt.weights["conv1_norm/moving_variance"].copy()
    variance[0] = 1.5e5
    ckpt.weights["conv1_norm/moving_variance"] = variance
    loaded = load_checkpoint(save_checkpoint(ckpt, tmp_path / "half.npz", fp16=True))
    assert np.isfinite(loaded.weights["conv1_norm/moving_variance"]).all()
    assert loaded.weights["conv1_norm/moving_variance"][0] == 1.5e5
    with np.load(tmp_path / "half.npz") as stored:
        assert stored["conv1/kernel"].dtype == np.float16
