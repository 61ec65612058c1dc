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


def test_instance_norm_as_written_is_decomposed_and_the_fusable_form_is_not(benchmark, tmp_path):
    decomposed = benchmark.list_layers(_export("instance", "mlprogram", tmp_path))
    norms = ["conv1_norm", "conv2_norm", "conv3_norm", "out_norm", "res1_conv1_norm", "res1_conv2_norm",
             "up1_norm", "up2_norm"]
    assert decomposed["format"] == "mlprogram"
    assert decomposed["kinds"]["reduce_mean"] == 2 * CONVS
    assert decomposed["reduced_norms"] == norms
    assert decomposed["convs_with_bias"] == 0 and decomposed["norm_layers"]["instance_norm"] == 0
    assert decomposed["elements"]["reduce_mean"] > 0
    assert "const" not in benchmark.compute_kinds(decomposed)

    with benchmark.fusable_instance_norm():
        fused = benchmark.list_layers(_export("instance", "mlprogram", tmp_path, name="fused"))
    assert fused["norm_layers"]["instance_norm"] == CONVS - 1
    assert fused["reduced_norms"] == ["out_norm"]
    assert sum(benchmark.compute_kinds(fused).values()) < sum(benchmark.compute_kinds(decomposed).values())


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
