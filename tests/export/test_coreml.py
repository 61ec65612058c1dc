"""The exported file's interface, read back from the saved spec."""

import json

import coremltools as ct
import pytest

from mobilestyle.errors import UserError
from mobilestyle.export.coreml import export_coreml
from mobilestyle.networks.arch import ArchSpec
from mobilestyle.networks.checkpoint import random_checkpoint

RGB = ct.proto.FeatureTypes_pb2.ImageFeatureType.RGB


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    out = tmp_path_factory.mktemp("export")
    ckpt = random_checkpoint(ArchSpec(), seed=0)
    return {
        "nn": export_coreml(ckpt, out, "full"),
        "nn_fp16": export_coreml(ckpt, out, "half", fp16=True),
        "nn_ios13": export_coreml(ckpt, out, "ios13", resize="resize-bilinear"),
        "mlprogram": export_coreml(ckpt, out, "program", model_format="mlprogram"),
    }


def _assert_image_interface(spec):
    (image,) = spec.description.input
    (stylized,) = spec.description.output
    assert image.name == "image" and image.type.WhichOneof("Type") == "imageType"
    assert (image.type.imageType.width, image.type.imageType.height, image.type.imageType.colorSpace) == (853, 480, RGB)
    assert stylized.name == "stylized" and stylized.type.WhichOneof("Type") == "imageType"
    assert (stylized.type.imageType.width, stylized.type.imageType.height,
            stylized.type.imageType.colorSpace) == (1920, 1080, RGB)


def test_neuralnetwork_interface_and_final_upsample_layer(exported):
    result = exported["nn"]
    spec = ct.utils.load_spec(str(result.model_path))
    _assert_image_interface(spec)
    assert spec.WhichOneof("Type") == "neuralNetwork"
    assert spec.specificationVersion == result.specification_version == 5
    last = spec.neuralNetwork.layers[-1]
    assert last.WhichOneof("layer") == "upsample" and list(last.output) == ["stylized"]
    params = last.upsample
    assert params.mode == params.BILINEAR and params.linearUpsampleMode == params.ALIGN_CORNERS_FALSE
    assert 480 * params.fractionalScalingFactor[0] >= 1080 and 853 * params.fractionalScalingFactor[1] >= 1920
    assert result.minimum_ios == "14.0"


def test_ios13_variant_uses_resize_bilinear_at_spec_version_4(exported):
    spec = ct.utils.load_spec(str(exported["nn_ios13"].model_path))
    _assert_image_interface(spec)
    last = spec.neuralNetwork.layers[-1]
    assert last.WhichOneof("layer") == "resizeBilinear"
    assert list(last.resizeBilinear.targetSize) == [1080, 1920]
    assert spec.specificationVersion == 4


def test_metadata_names_style_architecture_and_costs(exported):
    spec = ct.utils.load_spec(str(exported["nn"].model_path))
    user = spec.description.metadata.userDefined
    assert user["mobilestyle.architecture"] == str(ArchSpec())
    assert int(user["mobilestyle.macs"]) == exported["nn"].macs and round(exported["nn"].macs / 1e9, 1) == 48.0
    assert int(user["mobilestyle.parameters"]) == exported["nn"].parameters
    assert user["mobilestyle.random_weights"] == "true"
    assert "UNTRAINED" in spec.description.metadata.shortDescription


def test_fp16_halves_the_file(exported):
    assert exported["nn_fp16"].file_bytes < 0.55 * exported["nn"].file_bytes
    spec = ct.utils.load_spec(str(exported["nn_fp16"].model_path))
    _assert_image_interface(spec)
    conv = next(layer for layer in spec.neuralNetwork.layers if layer.WhichOneof("layer") == "convolution")
    assert len(conv.convolution.weights.float16Value) > 0 and len(conv.convolution.weights.floatValue) == 0


def test_mlprogram_has_the_same_interface(exported):
    result = exported["mlprogram"]
    assert result.model_path.suffix == ".mlpackage" and result.model_path.is_dir()
    spec = ct.utils.load_spec(str(result.model_path))
    assert spec.WhichOneof("Type") == "mlProgram"
    _assert_image_interface(spec)


def test_contract_matches_the_model(exported):
    contract = json.loads(exported["nn"].contract_path.read_text())
    assert contract["model_file"] == "full.mlmodel"
    assert contract["input"] == {"name": "image", "type": "image", "color_layout": "RGB", "width": 853,
                                 "height": 480, "pixel_range": [0, 255]}
    assert (contract["output"]["name"], contract["output"]["width"], contract["output"]["height"]) == (
        "stylized", 1920, 1080)
    assert contract["fps_target"] == 15 and contract["minimum_ios"] == "14.0"


def test_unwritable_output_folder_is_a_user_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(UserError, match="cannot create output folder|not a folder"):
        export_coreml(random_checkpoint(ArchSpec.parse("blocks=1,width=0.25"), 0), blocker / "sub", "m")


def test_bad_name_is_rejected_before_writing(tmp_path):
    with pytest.raises(UserError, match="not a usable file name"):
        export_coreml(random_checkpoint(ArchSpec.parse("blocks=1,width=0.25"), 0), tmp_path, "../escape")
    assert list(tmp_path.iterdir()) == []
