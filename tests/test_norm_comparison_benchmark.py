"""benchmarks/norm_comparison.py's layer listing on small exported nets: what the phone runs per norm kind."""


import pytest

from mobilestyle.export.coreml import export_coreml
from mobilestyle.networks.arch import ArchSpec
from mobilestyle.networks.checkpoint import random_checkpoint
from tests.conftest import REPO_ROOT, load_script

SMALL = "blocks=1,width=0.25,norm={norm},upsample=nearest,padding=reflect,output=tanh150,out_norm=yes,eps=0.001"
# conv1, conv2, conv3, res1_conv1, res1_conv2, up1, up2, out: each followed by a norm.
CONVS = 8


@pytest.fixture(scope="module")
def benchmark():
    return load_script(REPO_ROOT / "benchmarks" / "norm_comparison.py", "norm_comparison")


def _export(norm: str, model_format: str, folder, name: str = "small"):
    checkpoint = random_checkpoint(ArchSpec.parse(SMALL.format(norm=norm)), seed=3)
    return export_coreml(checkpoint, folder, name, model_format=model_format, fp16=True).model_path


def test_batch_norm_is_folded_into_the_convs(benchmark, tmp_path):
    listing = benchmark.list_layers(_export("batch", "neuralnetwork", tmp_path))
    assert listing["format"] == "neuralnetwork"
    assert listing["kinds"]["convolution"] == listing["convs"] == CONVS
    assert listing["convs_with_bias"] == CONVS
    assert not any(listing["norm_layers"].values())
    assert "reduceMean" not in listing["kinds"] and "pooling" not in listing["kinds"]


def test_instance_norms_are_fused_but_a_zero_shift_one(benchmark, tmp_path):
    """A random checkpoint's out_norm has a shift of exactly 0, which the converter folds out of the fused form."""
    listing = benchmark.list_layers(_export("instance", "mlprogram", tmp_path))
    assert listing["format"] == "mlprogram"
    assert listing["norm_layers"]["instance_norm"] == CONVS - 1
    assert listing["reduced_norms"] == ["out_norm"]
    assert listing["kinds"]["reduce_mean"] == 2 and listing["convs_with_bias"] == 0
    assert listing["elements"]["instance_norm"] > 0
    assert "const" not in benchmark.compute_kinds(listing)


def test_fp16_probe_reports_the_keras_and_the_exported_squares(benchmark):
    import numpy as np

    net = random_checkpoint(ArchSpec.parse(SMALL.format(norm="instance")), seed=3).build_model()
    conv1 = net.get_layer("conv1")
    conv1.kernel.assign(conv1.kernel * 64.0)
    frames = np.random.default_rng(0).integers(0, 256, (2, 64, 96, 3)).astype(np.float32)
    probe = benchmark.fp16_square_probe(net, frames)
    assert probe["at"] == "conv1_norm" and probe["layers_over_fp16"] == ["conv1_norm"]
    assert probe["exported_max_square"] < 65504 and probe["exported_layers_over_fp16"] == []
    assert probe["rescaled"].startswith("conv1_norm x2^-")
    row = {"row": "instance norm, loud", "norm": "instance", "trained": False, "fp16_square": probe}
    reading = "\n".join(benchmark._render_verdict({"quality": {"rows": [row]}}))
    assert "flatten the channel" in reading and "inside fp16" in reading


def _trained_row(norm: str, structure: float, gram: float) -> dict:
    return {"row": f"{norm} norm, muse.npz", "norm": norm, "trained": True, "structure_psnr": structure,
            "gram_distance": gram, "detail_ratio": 0.9}


@pytest.mark.parametrize("instance_row, verdict", [
    ((19.6, 0.90), "Not a wide margin"),          # +0.1 dB, 2% less Gram
    ((21.0, 0.90), "Not a wide margin"),          # structure clears the margin, texture does not
    ((21.0, 0.60), "Instance norm wins"),         # +1.5 dB and 35% less Gram
])
def test_the_reading_states_the_trained_verdict_by_the_stated_margin(benchmark, instance_row, verdict):
    report = {"quality": {"rows": [_trained_row("batch", 19.5, 0.92), _trained_row("instance", *instance_row)]}}
    reading = "\n".join(benchmark._render_verdict(report))
    assert verdict in reading
    assert "no decision yet" not in reading


def test_the_reading_has_no_verdict_without_both_trained_rows(benchmark):
    report = {"quality": {"rows": [_trained_row("batch", 19.5, 0.92)]}}
    assert "no decision yet" in "\n".join(benchmark._render_verdict(report))


def test_training_history_sums_a_shipped_chain_and_flags_an_unrecorded_first_run(benchmark, tmp_path):
    import json
    from pathlib import Path

    chain = {"steps": 841, "minutes": 20.0, "started_from": {"steps": 309, "minutes": 7.5,
                                                             "started_from": {"checkpoint": "models/muse.npz"}}}
    (tmp_path / "muse.json").write_text(json.dumps({"recipe": chain}))
    history = benchmark.training_history(tmp_path / "muse.npz", {"steps": 841, "minutes": 20.0})
    assert history["run_steps"] == [309, 841] and history["total_minutes"] == 27.5
    assert history["unrecorded_earlier"]
    alone = benchmark.training_history(Path(tmp_path / "run.npz"), {"steps": 1304, "minutes": 70.0})
    assert alone["run_steps"] == [1304] and alone["total_minutes"] == 70.0 and not alone["unrecorded_earlier"]
