"""Per-op checks of the ML program translation: tiny MIL programs, run translated, against NumPy / TensorFlow
references and the sampling grids given in coremltools' MIL op docs."""

import numpy as np
import pytest
import tensorflow as tf
from coremltools.converters.mil import Builder as mb

from mobilestyle.errors import UserError
from mobilestyle.runner.mil_to_onnx import program_to_onnx
from tests.runner.mil_programs import converted_spec, run_program, run_single

RNG = np.random.default_rng(12)


def _random(*shape) -> np.ndarray:
    return RNG.standard_normal(shape).astype(np.float32)


def conv_reference(x, weight, pads, strides=(1, 1), dilations=(1, 1), groups=1, bias=None):
    """Direct NCHW convolution; pads = (top, bottom, left, right)."""
    x = np.pad(x.astype(np.float64), [(0, 0), (0, 0), pads[:2], pads[2:]])
    out_channels, group_channels, kernel_h, kernel_w = weight.shape
    out_h = (x.shape[2] - (kernel_h - 1) * dilations[0] - 1) // strides[0] + 1
    out_w = (x.shape[3] - (kernel_w - 1) * dilations[1] - 1) // strides[1] + 1
    result = np.zeros((x.shape[0], out_channels, out_h, out_w))
    per_group = out_channels // groups
    for group in range(groups):
        inputs = x[:, group * group_channels:(group + 1) * group_channels]
        outputs = slice(group * per_group, (group + 1) * per_group)
        for i in range(kernel_h):
            for j in range(kernel_w):
                top, left = i * dilations[0], j * dilations[1]
                patch = inputs[:, :, top:top + (out_h - 1) * strides[0] + 1:strides[0],
                               left:left + (out_w - 1) * strides[1] + 1:strides[1]]
                result[:, outputs] += np.einsum("nchw,oc->nohw", patch, weight[outputs, :, i, j])
    if bias is not None:
        result += bias.reshape(1, -1, 1, 1)
    return result


@pytest.mark.parametrize("pad_type, kernel, strides, expected_pads, ios", [
    ("valid", 3, (1, 1), (0, 0, 0, 0), 15),
    ("same", 3, (2, 2), (1, 1, 0, 1), 15),
    ("same", 4, (1, 1), (1, 2, 1, 2), 15),
    ("same_lower", 4, (1, 1), (2, 1, 2, 1), 16),
])
def test_conv_padding_types(pad_type, kernel, strides, expected_pads, ios):
    x, weight, bias = _random(1, 2, 5, 6), _random(3, 2, kernel, kernel), _random(3)
    result = run_single(lambda v: mb.conv(x=v, weight=weight, bias=bias, pad_type=pad_type, strides=list(strides)),
                        x, ios)
    np.testing.assert_allclose(result, conv_reference(x, weight, expected_pads, strides, bias=bias), atol=1e-4)


def test_conv_custom_pads_dilations_and_groups():
    x, weight = _random(1, 4, 7, 6), _random(6, 2, 3, 3)
    result = run_single(lambda v: mb.conv(x=v, weight=weight, pad_type="custom", pad=[1, 0, 2, 1],
                                          dilations=[2, 1], groups=2), x)
    np.testing.assert_allclose(result, conv_reference(x, weight, (1, 0, 2, 1), (1, 1), (2, 1), 2), atol=1e-4)


@pytest.mark.parametrize("size", [(4, 5), (5, 6)])
def test_conv_transpose_same_with_output_shape_matches_tensorflow(size):
    x, weight = _random(1, 3, *size), _random(3, 2, 3, 3)
    output_shape = [1, 2, size[0] * 2, size[1] * 2]
    result = run_single(lambda v: mb.conv_transpose(x=v, weight=weight, pad_type="same", strides=[2, 2],
                                                    output_shape=output_shape), x)
    expected = tf.nn.conv2d_transpose(x.transpose(0, 2, 3, 1), weight.transpose(2, 3, 1, 0),
                                      [1, *output_shape[2:], 2], strides=2, padding="SAME")
    np.testing.assert_allclose(result, expected.numpy().transpose(0, 3, 1, 2), atol=1e-4)


def test_conv_transpose_valid_and_custom_crop_the_full_output():
    x, weight, bias = _random(1, 2, 3, 4), _random(2, 3, 3, 3), _random(3)
    full = run_single(lambda v: mb.conv_transpose(x=v, weight=weight, bias=bias, strides=[2, 1]), x)
    expected = tf.nn.conv2d_transpose(x.transpose(0, 2, 3, 1), weight.transpose(2, 3, 1, 0), [1, 7, 6, 3],
                                      strides=[2, 1], padding="VALID").numpy().transpose(0, 3, 1, 2)
    np.testing.assert_allclose(full, expected + bias.reshape(1, 3, 1, 1), atol=1e-4)
    cropped = run_single(lambda v: mb.conv_transpose(x=v, weight=weight, bias=bias, strides=[2, 1],
                                                     pad_type="custom", pad=[1, 2, 0, 1]), x)
    np.testing.assert_allclose(cropped, full[:, :, 1:-2, 0:-1], atol=1e-5)


@pytest.mark.parametrize("mode, numpy_mode", [("reflect", "reflect"), ("replicate", "edge"), ("constant", "constant")])
def test_pad_modes(mode, numpy_mode):
    x = _random(1, 2, 4, 5)
    result = run_single(lambda v: mb.pad(x=v, pad=[1, 2, 3, 0], mode=mode, constant_val=2.5), x)
    extra = {"constant_values": 2.5} if mode == "constant" else {}
    np.testing.assert_allclose(result, np.pad(x, [(0, 0), (0, 0), (1, 2), (3, 0)], mode=numpy_mode, **extra))


def test_pad_of_the_last_axis_only():
    x = _random(1, 2, 4, 5)
    result = run_single(lambda v: mb.pad(x=v, pad=[0, 3], mode="reflect"), x)
    np.testing.assert_allclose(result, np.pad(x, [(0, 0), (0, 0), (0, 0), (0, 3)], mode="reflect"))


# Grid points from the Notes of coremltools' upsample_bilinear / resize_bilinear docs (input [0, 1]).
RESIZE_GRIDS = {
    ("UNALIGN_CORNERS", 5): [0., 0.1, 0.5, 0.9, 1.],
    ("STRICT_ALIGN_CORNERS", 5): [0., 0.25, 0.5, 0.75, 1.],
    ("ALIGN_CORNERS", 5): [0., 0.25, 0.5, 0.75, 1.],
    ("DEFAULT", 5): [0., 0.4, 0.8, 1., 1.],
    ("OFFSET_CORNERS", 5): [0.1, 0.3, 0.5, 0.7, 0.9],
    ("UNALIGN_CORNERS", 6): [0., 0., 0.33, 0.67, 1., 1.],
    ("ALIGN_CORNERS", 6): [0., 0.2, 0.4, 0.6, 0.8, 1.],
    ("DEFAULT", 6): [0., 0.33, 0.67, 1., 1., 1.],
    ("OFFSET_CORNERS", 6): [0.08, 0.25, 0.42, 0.58, 0.75, 0.92],
}
RAMP = np.array([0.0, 1.0], np.float32).reshape(1, 1, 1, 2)


@pytest.mark.parametrize("mode, size", list(RESIZE_GRIDS))
def test_resize_bilinear_samples_the_documented_grid(mode, size):
    result = run_single(lambda v: mb.resize_bilinear(x=v, target_size_height=1, target_size_width=size,
                                                     sampling_mode=mode), RAMP)
    np.testing.assert_allclose(result.ravel(), RESIZE_GRIDS[mode, size], atol=0.005)


@pytest.mark.parametrize("align_corners, size", [(False, 5), (True, 5), (False, 6), (True, 6)])
def test_upsample_bilinear_samples_the_documented_grid(align_corners, size):
    result = run_single(lambda v: mb.upsample_bilinear(x=v, scale_factor_height=1.0, scale_factor_width=size / 2,
                                                       align_corners=align_corners), RAMP)
    mode = "ALIGN_CORNERS" if align_corners else "UNALIGN_CORNERS"
    np.testing.assert_allclose(result.ravel(), RESIZE_GRIDS[mode, size], atol=0.005)


def test_upsample_bilinear_without_align_corners_matches_tf_image_resize():
    x = _random(1, 2, 6, 7)
    result = run_single(lambda v: mb.upsample_bilinear(x=v, scale_factor_height=2.5, scale_factor_width=1.5,
                                                       align_corners=False), x)
    expected = tf.image.resize(x.transpose(0, 2, 3, 1), (15, 10), method="bilinear").numpy().transpose(0, 3, 1, 2)
    np.testing.assert_allclose(result, expected, atol=1e-5)


def test_nearest_neighbour_resampling_repeats_pixels():
    x = _random(1, 2, 3, 4)
    resized = run_single(lambda v: mb.resize_nearest_neighbor(x=v, target_size_height=6, target_size_width=12), x)
    np.testing.assert_array_equal(resized, x.repeat(2, axis=2).repeat(3, axis=3))
    upsampled = run_single(lambda v: mb.upsample_nearest_neighbor(x=v, scale_factor_height=3,
                                                                  scale_factor_width=2), x)
    np.testing.assert_array_equal(upsampled, x.repeat(3, axis=2).repeat(2, axis=3))


def test_instance_and_batch_norm():
    x = _random(1, 3, 4, 5) * 3 + 1
    gamma, beta, mean, variance = _random(3), _random(3), _random(3), np.abs(_random(3)) + 0.5
    instance = run_single(lambda v: mb.instance_norm(x=v, gamma=gamma, beta=beta, epsilon=1e-3), x)
    centered = x - x.mean(axis=(2, 3), keepdims=True)
    expected = centered / np.sqrt(x.var(axis=(2, 3), keepdims=True) + 1e-3)
    np.testing.assert_allclose(instance, expected * gamma.reshape(3, 1, 1) + beta.reshape(3, 1, 1), atol=1e-4)
    batch = run_single(lambda v: mb.batch_norm(x=v, mean=mean, variance=variance, gamma=gamma, beta=beta,
                                               epsilon=1e-3), x)
    expected = (x - mean.reshape(3, 1, 1)) / np.sqrt(variance.reshape(3, 1, 1) + 1e-3)
    np.testing.assert_allclose(batch, expected * gamma.reshape(3, 1, 1) + beta.reshape(3, 1, 1), atol=1e-4)


def test_elementwise_chain_with_broadcasting():
    """The ops a decomposed instance norm and the output heads use, each checked once, in one program."""
    x = _random(1, 3, 4, 5)
    channel = np.abs(_random(1, 3, 1, 1)) + 0.5

    def build(v):
        mean = mb.reduce_mean(x=v, axes=[2, 3], keep_dims=True)
        centered = mb.sub(x=v, y=mean)
        spread = mb.rsqrt(x=mb.add(x=mb.reduce_mean(x=mb.square(x=centered), axes=[2, 3], keep_dims=True), y=1e-3))
        normalized = mb.real_div(x=mb.mul(x=centered, y=spread), y=channel)
        heads = mb.add(x=mb.mul(x=mb.sigmoid(x=normalized), y=255.0), y=mb.tanh(x=mb.relu(x=normalized)))
        clipped = mb.clip(x=mb.pow(x=mb.sqrt(x=mb.abs(x=heads)), y=2.0), alpha=10.0, beta=200.0)
        return mb.maximum(x=mb.minimum(x=clipped, y=150.0), y=mb.mul(x=normalized, y=50.0))

    result = run_single(build, x)
    centered = x - x.mean(axis=(2, 3), keepdims=True)
    normalized = centered / np.sqrt((centered ** 2).mean(axis=(2, 3), keepdims=True) + 1e-3) / channel
    heads = 255.0 / (1 + np.exp(-normalized)) + np.tanh(np.maximum(normalized, 0))
    expected = np.maximum(np.minimum(np.clip(np.abs(heads), 10, 200), 150), normalized * 50)
    np.testing.assert_allclose(result, expected, rtol=1e-4, atol=1e-3)


def test_transpose_and_slice_by_index_with_masks():
    x = _random(1, 4, 6, 5)

    def build(v):
        nhwc = mb.transpose(x=v, perm=[0, 2, 3, 1])
        return mb.slice_by_index(x=nhwc, begin=[0, 1, 4, 2], end=[0, 6, 0, 0], stride=[1, 2, -2, 1],
                                 begin_mask=[True, False, False, False], end_mask=[True, False, True, True],
                                 squeeze_mask=[True, False, False, False])

    expected = x.transpose(0, 2, 3, 1)[0, 1:6:2, 4::-2, 2:]
    np.testing.assert_array_equal(run_single(build, x), expected)


def test_fp16_casts_and_fp16_weights_compute_in_float32():
    """Inline fp16 constants (raw bytes) and fp16 blobs are upcast; the casts are identities."""
    x = _random(1, 2, 5, 5)
    weight = _random(4, 2, 3, 3).astype(np.float16)
    bias = _random(4).astype(np.float16)

    def build(v):
        half = mb.cast(x=v, dtype="fp16")
        conv = mb.conv(x=half, weight=weight, bias=bias, pad_type="same")
        return mb.cast(x=mb.mul(x=conv, y=np.float16(0.5)), dtype="fp32")

    expected = conv_reference(x, weight.astype(np.float32), (1, 1, 1, 1), bias=bias.astype(np.float32)) * 0.5
    np.testing.assert_allclose(run_single(build, x), expected, atol=1e-4)


def _program(build, shape=(1, 2, 3, 4)):
    import coremltools as ct

    @mb.program(input_specs=[mb.TensorSpec(shape=shape)], opset_version=ct.target.iOS15)
    def program(x):
        return build(x)

    return program


@pytest.mark.parametrize("build, message", [
    (lambda v: mb.gelu(x=v, name="y"), "operation 'y' has type 'gelu', which the Linux runner does not support"),
    (lambda v: mb.cast(x=v, dtype="int32", name="y"), "cast to 'int32' is not supported"),
    (lambda v: mb.pad(x=v, pad=[0, 0, 0, 4], mode="reflect", name="y"), "reflect padding .* must be smaller"),
])
def test_unsupported_programs_are_one_line_user_errors(build, message):
    with pytest.raises(UserError, match=message) as error:
        run_program(_program(build), x=np.zeros((1, 2, 3, 4)))
    assert "\n" not in str(error.value)


def test_declared_shapes_are_checked():
    spec, model_dir = converted_spec(_program(lambda v: mb.relu(x=v, name="y")))
    block = spec.mlProgram.functions["main"].block_specializations["CoreML5"]
    relu = next(op for op in block.operations if op.type == "relu")
    relu.outputs[0].type.tensorType.dimensions[3].constant.size = 5
    with pytest.raises(UserError, match=r"declares shape \(1, 2, 3, 5\), the translation computes \(1, 2, 3, 4\)"):
        program_to_onnx(spec, model_dir)
