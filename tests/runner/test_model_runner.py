"""ModelRunner on small hand-built style models: frames in and out, pixel conversion, backends,
metadata, the saved ONNX, and one-line errors for files that are not mobilestyle models."""

import numpy as np
import onnx
import onnxruntime
import pytest
import tensorflow as tf
from coremltools.proto import FeatureTypes_pb2

from mobilestyle.errors import UserError
from mobilestyle.runner import ModelRunner
from mobilestyle.runner.backends import available_backends
from tests.runner.coreml_specs import add_layer, network_spec

IN_W, IN_H, OUT_W, OUT_H = 20, 12, 45, 27
RGB = FeatureTypes_pb2.ImageFeatureType.RGB


def style_spec(scale=1.0, biases=(0.0, 0.0, 0.0), gain=1.5, offset=-40.0, out_size=(OUT_W, OUT_H)):
    """image -> scaler -> gain * x + offset (values leave 0..255) -> fractional bilinear upsample -> stylized."""
    spec = network_spec({}, [])
    image = spec.description.input.add()
    image.name = "image"
    image.type.imageType.width, image.type.imageType.height, image.type.imageType.colorSpace = IN_W, IN_H, RGB
    output = spec.description.output.add()
    output.name = "stylized"
    output.type.imageType.width, output.type.imageType.height = out_size
    output.type.imageType.colorSpace = RGB
    preprocessing = spec.neuralNetwork.preprocessing.add()
    preprocessing.featureName = "image"
    preprocessing.scaler.channelScale = scale
    preprocessing.scaler.redBias, preprocessing.scaler.greenBias, preprocessing.scaler.blueBias = biases
    add_layer(spec, "multiply", ["image"], "gained").alpha = gain
    add_layer(spec, "add", ["gained"], "shifted").alpha = offset
    upsample = add_layer(spec, "upsample", ["shifted"], "stylized")
    upsample.mode, upsample.linearUpsampleMode = 1, 2
    upsample.fractionalScalingFactor.extend([float(np.float32(OUT_H / IN_H)), float(np.float32(OUT_W / IN_W))])
    spec.description.metadata.author = "tests"
    spec.description.metadata.userDefined["mobilestyle.style"] = "unit"
    return spec


def save(spec, path):
    path.write_bytes(spec.SerializeToString())
    return path


def expected_float(frame, scale=1.0, biases=(0.0, 0.0, 0.0), gain=1.5, offset=-40.0):
    network_input = frame.astype(np.float64) * scale + np.asarray(biases)
    return tf.image.resize((network_input * gain + offset)[None], (OUT_H, OUT_W), method="bilinear").numpy()[0]


@pytest.fixture
def frame():
    return np.random.default_rng(4).integers(0, 256, (IN_H, IN_W, 3), dtype=np.uint8)


@pytest.fixture
def model_path(tmp_path):
    return save(style_spec(), tmp_path / "unit.mlmodel")


@pytest.mark.parametrize("backend", available_backends())
def test_run_returns_clamped_rounded_rgb_frames(backend, model_path, frame):
    runner = ModelRunner(model_path, backend=backend, threads=1)
    assert runner.backend == backend
    assert (runner.input_size, runner.output_size) == ((IN_W, IN_H), (OUT_W, OUT_H))
    result = runner.run(frame)
    assert result.dtype == np.uint8 and result.shape == (OUT_H, OUT_W, 3)
    expected = np.clip(expected_float(frame), 0, 255)
    assert np.abs(result - expected).max() <= 0.5 + 1e-3
    assert result.min() == 0 and result.max() == 255


def style_program_package(path, scale=0.5, biases=(10.0, -20.0, 30.0), gain=1.5, offset=-40.0):
    """The ML program of `style_spec` saved as a .mlpackage: coremltools turns the ImageType scale and
    bias into `mul` / `add` ops at the start of the program, and the output is made an RGB image."""
    import coremltools as ct
    from coremltools.converters.mil import Builder as mb

    @mb.program(input_specs=[mb.TensorSpec(shape=(1, 3, IN_H, IN_W))], opset_version=ct.target.iOS15)
    def program(image):
        x = mb.add(x=mb.mul(x=image, y=gain), y=offset)
        return mb.upsample_bilinear(x=x, scale_factor_height=OUT_H / IN_H, scale_factor_width=OUT_W / IN_W,
                                    align_corners=False, name="stylized")

    image = ct.ImageType(name="image", shape=(1, 3, IN_H, IN_W), scale=scale, bias=list(biases),
                         color_layout=ct.colorlayout.RGB)
    model = ct.convert(program, convert_to="mlprogram", inputs=[image], skip_model_load=True,
                       compute_precision=ct.precision.FLOAT32, minimum_deployment_target=ct.target.iOS15)
    spec = model.get_spec()
    output = spec.description.output[0]
    output.type.Clear()
    output.type.imageType.width, output.type.imageType.height, output.type.imageType.colorSpace = OUT_W, OUT_H, RGB
    ct.models.MLModel(spec, weights_dir=model.weights_dir, skip_model_load=True).save(str(path))
    return path


@pytest.mark.parametrize("backend", available_backends())
def test_mlpackage_runs_with_the_preprocessing_in_its_program(backend, tmp_path, frame):
    path = style_program_package(tmp_path / "unit.mlpackage")
    runner = ModelRunner(path, backend=backend, threads=1)
    assert (runner.input_size, runner.output_size) == ((IN_W, IN_H), (OUT_W, OUT_H))
    expected = expected_float(frame, 0.5, (10.0, -20.0, 30.0))
    np.testing.assert_allclose(runner.run_float(frame), expected, rtol=0, atol=1e-2)
    assert np.abs(runner.run(frame) - np.clip(expected, 0, 255)).max() <= 0.5 + 1e-3


@pytest.mark.parametrize("backend", available_backends())
def test_run_float_returns_the_unclamped_network_output(backend, model_path, frame):
    result = ModelRunner(model_path, backend=backend).run_float(frame)
    assert result.dtype == np.float32 and result.shape == (OUT_H, OUT_W, 3)
    np.testing.assert_allclose(result, expected_float(frame), rtol=0, atol=1e-2)
    assert result.min() < 0 and result.max() > 255


def test_preprocessing_scaler_is_applied_per_channel(tmp_path, frame):
    path = save(style_spec(scale=0.5, biases=(10.0, -20.0, 30.0)), tmp_path / "scaled.mlmodel")
    result = ModelRunner(path, backend="onnxruntime").run_float(frame)
    np.testing.assert_allclose(result, expected_float(frame, 0.5, (10.0, -20.0, 30.0)), rtol=0, atol=1e-2)


def test_auto_backend_prefers_openvino(model_path):
    assert ModelRunner(model_path).backend == available_backends()[0] == "openvino"


def test_metadata_comes_from_the_spec(model_path):
    metadata = ModelRunner(model_path, backend="onnxruntime").model_metadata
    assert metadata["author"] == "tests"
    assert metadata["userDefined"] == {"mobilestyle.style": "unit"}


def test_saved_onnx_computes_the_float_output(model_path, frame, tmp_path):
    runner = ModelRunner(model_path, backend="onnxruntime")
    onnx_path = runner.save_onnx(tmp_path / "unit.onnx")
    model = onnx.load(str(onnx_path))
    session = onnxruntime.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    image = frame.astype(np.float32).transpose(2, 0, 1)[None]
    (stylized,) = session.run(["stylized"], {"image": image})
    np.testing.assert_allclose(stylized[0].transpose(1, 2, 0), runner.run_float(frame), rtol=0, atol=1e-4)


@pytest.mark.parametrize("bad_frame, message", [
    (np.zeros((IN_W, IN_H, 3), np.uint8), "takes RGB frames of 20x12"),
    (np.zeros((IN_H, IN_W, 4), np.uint8), "takes RGB frames of 20x12"),
    (np.zeros((IN_H, IN_W, 3), np.float32), "uint8"),
])
def test_wrong_frames_are_user_errors(model_path, bad_frame, message):
    with pytest.raises(UserError, match=message):
        ModelRunner(model_path, backend="onnxruntime").run(bad_frame)


def test_unknown_backend_is_a_user_error(model_path):
    with pytest.raises(UserError, match="unknown backend 'metal'"):
        ModelRunner(model_path, backend="metal")


def _multiarray_output_spec():
    spec = style_spec()
    spec.description.output[0].type.Clear()
    spec.description.output[0].type.multiArrayType.dataType = FeatureTypes_pb2.ArrayFeatureType.FLOAT32
    return spec


def _renamed_input_spec():
    spec = style_spec()
    spec.description.input[0].name = "frame"
    return spec


def _unsupported_layer_spec():
    spec = style_spec()
    layer = spec.neuralNetwork.layers[0]
    layer.lrn.localSize = 3
    return spec


def _empty_mlprogram_spec():
    spec = style_spec()
    spec.ClearField("neuralNetwork")
    spec.mlProgram.SetInParent()
    return spec


def _classifier_spec():
    spec = style_spec()
    spec.ClearField("neuralNetwork")
    spec.glmClassifier.SetInParent()
    return spec


@pytest.mark.parametrize("make_spec, message", [
    (_multiarray_output_spec, "'stylized' is multiArrayType, expected an RGB image input"),
    (_renamed_input_spec, r"has inputs \['frame'\]"),
    (_unsupported_layer_spec, "layer 'multiply_1' has type 'lrn', which the Linux runner does not support"),
    (_empty_mlprogram_spec, "the ML program has no 'main' function"),
    (_classifier_spec, "is a 'glmClassifier', not a neuralNetwork"),
    (lambda: style_spec(out_size=(OUT_W + 3, OUT_H)), r"computes 'stylized' with shape \(1, 3, 27, 45\)"),
])
def test_models_that_are_not_runnable_style_models_are_user_errors(make_spec, message, tmp_path):
    path = save(make_spec(), tmp_path / "model.mlmodel")
    with pytest.raises(UserError, match=message) as error:
        ModelRunner(path, backend="onnxruntime")
    assert "\n" not in str(error.value)


@pytest.mark.parametrize("contents, message", [
    (b"\x12\xff\xff\xff\xff\x0fnot a model at all", "is not a Core ML model"),
    (b"", "is not a Core ML model"),
    ("GIF89a".encode() + bytes(range(256)) * 4, "is not a Core ML model"),
])
def test_files_that_are_not_core_ml_models_are_user_errors(contents, message, tmp_path):
    path = tmp_path / "broken.mlmodel"
    path.write_bytes(contents)
    with pytest.raises(UserError, match=message):
        ModelRunner(path)


def test_truncated_model_is_a_user_error(model_path):
    model_path.write_bytes(model_path.read_bytes()[:-7])
    with pytest.raises(UserError):
        ModelRunner(model_path)


def test_missing_model_and_plain_folder_are_user_errors(tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        ModelRunner(tmp_path / "absent.mlmodel")
    with pytest.raises(UserError, match="not a Core ML package"):
        ModelRunner(tmp_path)
