"""`mobilestyle prune` from the command line: a short run and one-line errors."""

import pytest

from mobilestyle.networks.checkpoint import load_checkpoint, save_checkpoint

from ..cli.conftest import assert_one_line_error, run_cli  # noqa: F401
from .conftest import tiny_checkpoint


@pytest.fixture
def source(tmp_path):
    return save_checkpoint(tiny_checkpoint(), tmp_path / "source.npz")


def test_prune_command_writes_the_pruned_checkpoint(run_cli, source, tmp_path, photo_dir):  # noqa: F811
    out = tmp_path / "small.npz"
    code, stdout, stderr = run_cli("prune", source, "--out", out, "--target-macs", "1.0", "--content-dir", photo_dir,
                                   "--sparsity-steps", "1", "--recovery-steps", "1", "--train-images", "2",
                                   "--eval-images", "1", "--block-threshold", "0")
    assert code == 0, stderr
    pruned = load_checkpoint(out)
    assert pruned.meta["prune"]["pruned"]["gmacs_853x480"] <= 1.0 and pruned.arch.blocks == 2
    assert "wrote" in stdout


@pytest.mark.parametrize("args, fragment", [
    (["--keep", "0.5", "--target-macs", "1"], "exactly one of --target-macs and --keep"),
    (["--keep", "2", "--sparsity-steps", "0", "--recovery-steps", "0", "--block-threshold", "0"], "--keep must be"),
    (["--target-macs", "0.0001", "--sparsity-steps", "0", "--recovery-steps", "0", "--block-threshold", "0"],
     "remove blocks too"),
    (["--keep", "0.5"], "--content-dir"),
])
def test_prune_command_errors_are_one_line(run_cli, source, tmp_path, args, fragment):  # noqa: F811
    code, _, stderr = run_cli("prune", source, "--out", tmp_path / "small.npz", *args)
    assert_one_line_error(code, stderr, fragment)
    assert not (tmp_path / "small.npz").exists()


def test_prune_command_refuses_instance_norm(run_cli, tmp_path):  # noqa: F811
    source = save_checkpoint(tiny_checkpoint("norm=instance"), tmp_path / "instance.npz")
    code, _, stderr = run_cli("prune", source, "--out", tmp_path / "small.npz", "--keep", "0.5",
                              "--sparsity-steps", "0", "--recovery-steps", "0", "--block-threshold", "0")
    assert_one_line_error(code, stderr, "slimming needs batch norm")
