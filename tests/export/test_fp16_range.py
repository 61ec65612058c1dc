"""Instance norms rescaled for fp16: the squares shrink, the function does not change, the export fuses them."""

import collections

import numpy as np
import pytest

from mobilestyle.export.coreml import export_coreml
from mobilestyle.export.fp16_range import (FP16_MAX, FP16_SMALLEST, SQUARE_HEADROOM, calibration_frames, describe,
                                           fit_instance_norms_to_fp16, largest_squares)
from mobilestyle.networks.arch import ArchSpec
from mobilestyle.networks.checkpoint import random_checkpoint

SMALL_INSTANCE = "blocks=1,widths=8/16/16,norm=instance,output=tanh150,out_norm=yes,eps=0.001"
HEIGHT, WIDTH = 64, 96


def _loud_net(amplify: float = 16.0):
    """A small instance-norm net whose first conv is scaled up until its first norm's squares pass fp16."""
    net = random_checkpoint(ArchSpec.parse(SMALL_INSTANCE), seed=3).build_model(HEIGHT, WIDTH)
    conv1 = net.get_layer("conv1")
    conv1.kernel.assign(conv1.kernel * amplify)
    return net


def _frames(seed: int, count: int = 2) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (count, HEIGHT, WIDTH, 3)).astype(np.float32)


def test_loud_net_overflows_fp16_before_and_fits_after_with_the_same_output():
    net = _loud_net()
    calibration, unseen = _frames(0), _frames(1)
    assert largest_squares(net, unseen)["conv1_norm"] > FP16_MAX
    before = np.asarray(net(unseen))

    scales = fit_instance_norms_to_fp16(net, calibration)

    by_norm = {s.norm: s for s in scales}
    assert by_norm["conv1_norm"].exponent < 0 and by_norm["conv1_norm"].layer == "conv1"
    assert all(value <= FP16_MAX / SQUARE_HEADROOM * 2 for value in largest_squares(net, unseen).values())
    np.testing.assert_allclose(np.asarray(net(unseen)), before, atol=0.05)
    assert "conv1_norm x2^" in describe(scales)


def test_quiet_norms_are_left_alone():
    net = random_checkpoint(ArchSpec.parse(SMALL_INSTANCE), seed=3).build_model(HEIGHT, WIDTH)
    kernels = {layer.name: np.asarray(layer.kernel).copy() for layer in net.layers if hasattr(layer, "kernel")}
    scales = fit_instance_norms_to_fp16(net, _frames(0))
    quiet = [s for s in scales if s.largest_square <= FP16_MAX / SQUARE_HEADROOM]
    assert quiet and all(s.exponent == 0 for s in quiet)
    for s in quiet:
        np.testing.assert_array_equal(np.asarray(net.get_layer(s.layer).kernel), kernels[s.layer])


def test_epsilon_never_rounds_to_zero_in_fp16():
    net = _loud_net(amplify=1e5)
    scales = fit_instance_norms_to_fp16(net, _frames(0))
    epsilon = net.get_layer("conv1_norm").epsilon
    assert epsilon >= FP16_SMALLEST and np.float16(epsilon) > 0
    assert "conv1_norm x2^-7 (still" in describe(scales)


def test_batch_norm_nets_are_untouched():
    net = random_checkpoint(ArchSpec.parse("blocks=1,widths=8/16/16"), seed=3).build_model(HEIGHT, WIDTH)
    assert fit_instance_norms_to_fp16(net, _frames(0)) == []


def test_calibration_frames_are_model_input_sized_photos_noise_and_checkerboards():
    frames = calibration_frames()
    assert frames.shape == (7, 480, 853, 3)
    white_black = frames[-1]
    assert (white_black[:4, :4] == 255).all() and (white_black[:4, 4:8] == 0).all()
    assert (white_black[4:8, 4:8] == 255).all()
    assert 0 <= frames.min() and frames.max() <= 255


@pytest.mark.parametrize("model_format,fused_type", [("mlprogram", "instance_norm"), ("neuralnetwork", "batchnorm")])
def test_export_fuses_instance_norms(tmp_path, model_format, fused_type):
    """Every norm becomes one fused op. A random checkpoint's out_norm has a zero shift, which the converter
    folds into a form the fusion pattern misses; a trained net's shift is not zero, as here."""
    import coremltools as ct

    checkpoint = random_checkpoint(ArchSpec.parse("blocks=1,widths=8/8/8,norm=instance,out_norm=yes"), seed=7)
    checkpoint.weights["out_norm/beta"] = np.full_like(checkpoint.weights["out_norm/beta"], 0.1)
    result = export_coreml(checkpoint, tmp_path, "m", model_format=model_format, fp16=True)
    spec = ct.models.MLModel(str(result.model_path), skip_model_load=True).get_spec()
    if model_format == "mlprogram":
        main = spec.mlProgram.functions["main"]
        kinds = collections.Counter(op.type for op in main.block_specializations[main.opset].operations)
    else:
        kinds = collections.Counter(layer.WhichOneof("layer") for layer in spec.neuralNetwork.layers)
    assert kinds[fused_type] == 8
    assert len(result.norm_scales) == 8
