"""Convert, run, compare: export random-weight variants, run the saved file with the Linux runner,
and compare with the Keras model on the same real photo (in the style of coremltools' tests)."""

import numpy as np
import pytest

from mobilestyle.export.coreml import export_coreml
from mobilestyle.networks.arch import ArchSpec
from mobilestyle.networks.checkpoint import random_checkpoint
from mobilestyle.runner import ModelRunner
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
}


def _report(name: str, error: float) -> None:
    print(f"\nparity {name}: max abs error {error:.3f} (0..255 scale)")


@pytest.mark.parametrize("name", list(VARIANTS))
def test_exported_neuralnetwork_matches_keras(name, tmp_path, astronaut_frame):
    checkpoint = random_checkpoint(ArchSpec.parse(VARIANTS[name]), seed=7)
    result = export_coreml(checkpoint, tmp_path, name)
    runner = ModelRunner(result.model_path, backend="onnxruntime")
    stylized = runner.run(astronaut_frame)
    assert stylized.shape == (1080, 1920, 3) and stylized.dtype == np.uint8
    reference = keras_reference(checkpoint, astronaut_frame)
    error = float(np.abs(stylized.astype(np.float32) - reference).max())
    _report(name, error)
    assert reference.std() > 20, "the reference output is nearly flat: the comparison would prove little"
    assert error <= MAX_ABS_ERROR


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
