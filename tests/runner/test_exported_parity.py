"""Convert, run, compare: export random-weight variants (.mlmodel and .mlpackage), run the saved file with
the Linux runner, and compare with the Keras model on the same real photo (in the style of coremltools' tests)."""

import numpy as np
import pytest

from mobilestyle.export.coreml import export_coreml
from mobilestyle.networks.arch import ArchSpec
from mobilestyle.networks.checkpoint import random_checkpoint
from mobilestyle.runner import ModelRunner
from mobilestyle.runner.model_file import load_model_file
from mobilestyle.runner.parity import keras_reference

MAX_ABS_ERROR = 1.0

VARIANTS = {
    "default": "default",
    "blocks1": "blocks=1",
    "blocks5": "blocks=5",
    "narrow": "width=0.5",
    "uneven_widths": "widths=24/40/96,block_widths=50/70/30,up_widths=36/20",
    "separable": "conv=separable",
    "instance_norm": "norm=instance",
    "transposed_upsample": "upsample=transposed",
    "zero_padding": "padding=zero",
    "clip_output": "output=clip",
    "lengstrom_teacher": "blocks=5,norm=instance,upsample=transposed,padding=zero,output=tanh150,out_norm=yes,eps=0.001",
    "separable_instance_zero": "blocks=2,conv=separable,norm=instance,padding=zero,upsample=transposed,width=0.75",
    "teacher_layout_batch_norm": "blocks=3,norm=batch,upsample=transposed,padding=zero,output=tanh150,out_norm=yes,"
                                 "eps=0.001",
    "antialias": "antialias=yes",
    "antialias_shipped_layout": "output=tanh150,out_norm=yes,eps=0.001,antialias=yes",
}

# A few ML program (.mlpackage) variants at full size; between them they use every MIL op the exporter
# emits (the other variants were checked by hand with the same code: see the runner docs).
MLPROGRAM_VARIANTS = {
    "default": "default",
    "tanh150": "output=tanh150",
    "separable_instance_zero": VARIANTS["separable_instance_zero"],
    "antialias": VARIANTS["antialias"],
}


def _report(name: str, error: float) -> None:
    print(f"\nparity {name}: max abs error {error:.3f} (0..255 scale)")


def _check_parity(name: str, arch: str, model_format: str, tmp_path, frame) -> None:
    checkpoint = random_checkpoint(ArchSpec.parse(arch), seed=7)
    result = export_coreml(checkpoint, tmp_path, name, model_format=model_format)
    runner = ModelRunner(result.model_path, backend="onnxruntime")
    stylized = runner.run(frame)
    assert stylized.shape == (1080, 1920, 3) and stylized.dtype == np.uint8
    reference = keras_reference(checkpoint, frame)
    error = float(np.abs(stylized.astype(np.float32) - reference).max())
    _report(f"{model_format} {name}", error)
    assert reference.std() > 20, "the reference output is nearly flat: the comparison would prove little"
    assert error <= MAX_ABS_ERROR


@pytest.mark.parametrize("name", list(VARIANTS))
def test_exported_neuralnetwork_matches_keras(name, tmp_path, astronaut_frame):
    _check_parity(name, VARIANTS[name], "neuralnetwork", tmp_path, astronaut_frame)


@pytest.mark.parametrize("name", list(MLPROGRAM_VARIANTS))
def test_exported_mlprogram_matches_keras(name, tmp_path, astronaut_frame):
    _check_parity(name, MLPROGRAM_VARIANTS[name], "mlprogram", tmp_path, astronaut_frame)


def test_openvino_backend_agrees_with_onnxruntime(tmp_path, astronaut_frame):
    checkpoint = random_checkpoint(ArchSpec(), seed=3)
    result = export_coreml(checkpoint, tmp_path, "both")
    onnxruntime_out = ModelRunner(result.model_path, backend="onnxruntime").run(astronaut_frame)
    openvino_out = ModelRunner(result.model_path, backend="openvino").run(astronaut_frame)
    error = float(np.abs(onnxruntime_out.astype(np.int16) - openvino_out.astype(np.int16)).max())
    _report("openvino vs onnxruntime", error)
    assert error <= MAX_ABS_ERROR


def test_ios13_resize_bilinear_samples_like_align_corners(tmp_path, astronaut_frame):
    checkpoint = random_checkpoint(ArchSpec.parse("width=0.5"), seed=5)
    result = export_coreml(checkpoint, tmp_path, "ios13", resize="resize-bilinear")
    stylized = ModelRunner(result.model_path, backend="onnxruntime").run(astronaut_frame)
    error = float(np.abs(stylized.astype(np.float32) - keras_reference(checkpoint, astronaut_frame, True)).max())
    _report("resize-bilinear (align corners)", error)
    assert error <= MAX_ABS_ERROR


def test_fp16_weights_stay_close(tmp_path, astronaut_frame):
    checkpoint = random_checkpoint(ArchSpec(), seed=11)
    result = export_coreml(checkpoint, tmp_path, "half", fp16=True)
    stylized = ModelRunner(result.model_path, backend="onnxruntime").run(astronaut_frame)
    error = np.abs(stylized.astype(np.float32) - keras_reference(checkpoint, astronaut_frame))
    _report("fp16 weights", float(error.max()))
    assert float(error.mean()) < 1.0 and float(error.max()) < 8.0


def test_fp16_mlprogram_stays_close(tmp_path, astronaut_frame):
    """compute_precision=FLOAT16: the runner computes in float32 with the program's fp16 weights."""
    checkpoint = random_checkpoint(ArchSpec(), seed=11)
    result = export_coreml(checkpoint, tmp_path, "half", model_format="mlprogram", fp16=True)
    main = load_model_file(result.model_path).spec.mlProgram.functions["main"]
    casts = [op for op in main.block_specializations[main.opset].operations if op.type == "cast"]
    assert casts, "an fp16 program casts its input to fp16 and its output back"
    stylized = ModelRunner(result.model_path, backend="onnxruntime").run(astronaut_frame)
    error = np.abs(stylized.astype(np.float32) - keras_reference(checkpoint, astronaut_frame))
    _report("mlprogram fp16", float(error.max()))
    assert float(error.mean()) < 1.0 and float(error.max()) < 8.0
