"""Per-layer translation tests: one tiny Core ML spec per layer type and mode, run through ONNX Runtime
and compared with NumPy (or TensorFlow, for the resampling conventions) computed from the proto's
definition of the layer."""

import numpy as np
import pytest
import tensorflow as tf

from tests.runner.coreml_specs import add_layer, bilinear_reference, network_spec, run_spec, single_layer_spec

RNG = np.random.default_rng(0)
TOLERANCE = dict(rtol=1e-5, atol=1e-4)


def random(*shape, low=-2.0, high=2.0):
    return RNG.uniform(low, high, shape).astype(np.float32)


def set_border(border, top, left, bottom, right):
    for start, end in ((top, bottom), (left, right)):
        edge = border.borderAmounts.add()
        edge.startEdgeSize, edge.endEdgeSize = start, end


# --- padding -----------------------------------------------------------------------------------

@pytest.mark.parametrize("kind, numpy_mode", [("reflection", "reflect"), ("replication", "edge"),
                                              ("constant", "constant")])
def test_padding(kind, numpy_mode):
    spec, params = single_layer_spec("padding", (1, 2, 5, 6))
    set_border(params.paddingAmounts, 2, 1, 0, 3)
    getattr(params, kind).SetInParent()
    if kind == "constant":
        params.constant.value = 1.5
    x = random(1, 2, 5, 6)
    extra = {"constant_values": 1.5} if kind == "constant" else {}
    expected = np.pad(x, ((0, 0), (0, 0), (2, 0), (1, 3)), mode=numpy_mode, **extra)
    np.testing.assert_allclose(run_spec(spec, x=x)["y"], expected, **TOLERANCE)


# --- convolution -------------------------------------------------------------------------------

def conv_reference(x, weights, bias, stride, pads, dilation=(1, 1), groups=1):
    x = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (pads[0], pads[2]), (pads[1], pads[3])))
    _, channels, height, width = x.shape
    out_channels, kernel_channels, kernel_h, kernel_w = weights.shape
    out_h = (height - ((kernel_h - 1) * dilation[0] + 1)) // stride[0] + 1
    out_w = (width - ((kernel_w - 1) * dilation[1] + 1)) // stride[1] + 1
    out = np.zeros((x.shape[0], out_channels, out_h, out_w))
    per_group = out_channels // groups
    for group in range(groups):
        xs = x[:, group * kernel_channels:(group + 1) * kernel_channels]
        ws = weights[group * per_group:(group + 1) * per_group]
        for i in range(kernel_h):
            for j in range(kernel_w):
                top, left = i * dilation[0], j * dilation[1]
                patch = xs[:, :, top:top + (out_h - 1) * stride[0] + 1:stride[0],
                           left:left + (out_w - 1) * stride[1] + 1:stride[1]]
                out[:, group * per_group:(group + 1) * per_group] += np.einsum("nchw,oc->nohw", patch, ws[:, :, i, j])
    return out + (0 if bias is None else bias.reshape(1, -1, 1, 1))


CONV_CASES = {
    "valid_3x3": dict(kernel=(3, 3), stride=(1, 1), padding=("valid", (0, 0, 0, 0))),
    "valid_amounts_stride2": dict(kernel=(3, 3), stride=(2, 2), padding=("valid", (1, 2, 1, 0))),
    "same_bottom_right_heavy": dict(kernel=(3, 3), stride=(2, 2), padding=("same", 0)),
    "same_top_left_heavy": dict(kernel=(4, 4), stride=(1, 1), padding=("same", 1)),
    "same_9x9": dict(kernel=(9, 9), stride=(1, 1), padding=("same", 0)),
    "dilated": dict(kernel=(3, 3), stride=(1, 1), padding=("valid", (0, 0, 0, 0)), dilation=(2, 2)),
    "grouped": dict(kernel=(3, 3), stride=(1, 1), padding=("valid", (0, 0, 0, 0)), groups=2),
    "depthwise": dict(kernel=(3, 3), stride=(1, 1), padding=("same", 0), groups=4, out_channels=4),
    "no_bias_1x1": dict(kernel=(1, 1), stride=(1, 1), padding=("valid", (0, 0, 0, 0)), bias=False),
}


def _same_pads(size, kernel, stride, dilation, top_left_heavy):
    pads = []
    for n, k, s, d in zip(size, kernel, stride, dilation):
        total = max(0, (-(-n // s) - 1) * s + (k - 1) * d + 1 - n)
        small = total // 2
        pads.append((total - small, small) if top_left_heavy else (small, total - small))
    return [pads[0][0], pads[1][0], pads[0][1], pads[1][1]]


@pytest.mark.parametrize("case", list(CONV_CASES))
def test_convolution(case):
    config = CONV_CASES[case]
    groups, channels = config.get("groups", 1), 4
    out_channels = config.get("out_channels", 6)
    kernel, stride, dilation = config["kernel"], config["stride"], config.get("dilation", (1, 1))
    spec, params = single_layer_spec("convolution", (1, channels, 9, 11))
    params.outputChannels, params.kernelChannels, params.nGroups = out_channels, channels // groups, groups
    params.kernelSize.extend(kernel)
    params.stride.extend(stride)
    params.dilationFactor.extend(dilation)
    weights = random(out_channels, channels // groups, *kernel)
    params.weights.floatValue.extend(weights.ravel())
    bias = random(out_channels) if config.get("bias", True) else None
    if bias is not None:
        params.hasBias = True
        params.bias.floatValue.extend(bias)
    kind, value = config["padding"]
    if kind == "same":
        params.same.asymmetryMode = value
        pads = _same_pads((9, 11), kernel, stride, dilation, value == 1)
    else:
        set_border(params.valid.paddingAmounts, *value)
        pads = list(value)
    x = random(1, channels, 9, 11)
    expected = conv_reference(x, weights, bias, stride, pads, dilation, groups)
    np.testing.assert_allclose(run_spec(spec, x=x)["y"], expected, **TOLERANCE)


@pytest.mark.parametrize("stride, kernel, size, output_shape", [
    ((2, 2), (3, 3), (5, 7), (10, 14)),
    ((2, 2), (4, 4), (5, 7), (10, 14)),
    ((1, 1), (3, 3), (5, 7), (5, 7)),
])
def test_deconvolution_same_matches_tensorflow(stride, kernel, size, output_shape):
    in_channels, out_channels = 3, 4
    spec, params = single_layer_spec("convolution", (1, in_channels, *size))
    params.isDeconvolution = True
    params.outputChannels, params.kernelChannels, params.nGroups = out_channels, in_channels, 1
    params.kernelSize.extend(kernel)
    params.stride.extend(stride)
    params.same.asymmetryMode = 0
    params.outputShape.extend(output_shape)
    weights = random(in_channels, out_channels, *kernel)
    params.weights.floatValue.extend(weights.ravel())
    params.hasBias = True
    bias = random(out_channels)
    params.bias.floatValue.extend(bias)
    x = random(1, in_channels, *size)
    expected = tf.nn.conv2d_transpose(x.transpose(0, 2, 3, 1), weights.transpose(2, 3, 1, 0),
                                      (1, *output_shape, out_channels), (1, *stride, 1), "SAME").numpy()
    expected = expected.transpose(0, 3, 1, 2) + bias.reshape(1, -1, 1, 1)
    np.testing.assert_allclose(run_spec(spec, x=x)["y"], expected, **TOLERANCE)


def test_deconvolution_valid_with_padding_amounts():
    spec, params = single_layer_spec("convolution", (1, 2, 4, 5))
    params.isDeconvolution = True
    params.outputChannels, params.kernelChannels = 3, 2
    params.kernelSize.extend((3, 3))
    params.stride.extend((2, 2))
    set_border(params.valid.paddingAmounts, 1, 0, 0, 1)
    weights = random(2, 3, 3, 3)
    params.weights.floatValue.extend(weights.ravel())
    x = random(1, 2, 4, 5)
    full = np.zeros((1, 3, 9, 11))
    for i in range(3):
        for j in range(3):
            full[:, :, i:i + 7:2, j:j + 9:2] += np.einsum("nchw,co->nohw", x, weights[:, :, i, j])
    np.testing.assert_allclose(run_spec(spec, x=x)["y"], full[:, :, 1:, :-1], **TOLERANCE)


# --- normalization and pooling ------------------------------------------------------------------

def test_batchnorm_with_stored_statistics():
    spec, params = single_layer_spec("batchnorm", (1, 3, 4, 5))
    gamma, beta, mean, variance = random(3), random(3), random(3), random(3, low=0.5, high=2.0)
    params.channels, params.epsilon = 3, 1e-3
    for field, values in (("gamma", gamma), ("beta", beta), ("mean", mean), ("variance", variance)):
        getattr(params, field).floatValue.extend(values)
    x = random(1, 3, 4, 5)
    shape = (1, 3, 1, 1)
    expected = gamma.reshape(shape) * (x - mean.reshape(shape)) / np.sqrt(variance.reshape(shape) + 1e-3)
    np.testing.assert_allclose(run_spec(spec, x=x)["y"], expected + beta.reshape(shape), **TOLERANCE)


def test_batchnorm_computing_instance_statistics():
    spec, params = single_layer_spec("batchnorm", (1, 3, 4, 5))
    gamma, beta = random(3), random(3)
    params.channels, params.computeMeanVar, params.instanceNormalization = 3, True, True
    params.gamma.floatValue.extend(gamma)
    params.beta.floatValue.extend(beta)
    for field in ("mean", "variance"):
        getattr(params, field).floatValue.extend([0.0] * 3)
    x = random(1, 3, 4, 5)
    normalized = (x - x.mean(axis=(2, 3), keepdims=True)) / np.sqrt(x.var(axis=(2, 3), keepdims=True) + 1e-5)
    expected = normalized * gamma.reshape(1, 3, 1, 1) + beta.reshape(1, 3, 1, 1)
    np.testing.assert_allclose(run_spec(spec, x=x)["y"], expected, **TOLERANCE)


@pytest.mark.parametrize("pool_type, reduce", [(1, np.mean), (0, np.max)])
def test_global_pooling(pool_type, reduce):
    spec, params = single_layer_spec("pooling", (1, 3, 4, 5))
    params.type, params.globalPooling = pool_type, True
    x = random(1, 3, 4, 5)
    np.testing.assert_allclose(run_spec(spec, x=x)["y"], reduce(x, axis=(2, 3), keepdims=True), **TOLERANCE)


@pytest.mark.parametrize("pool_type, exclude_padding", [(1, False), (1, True), (0, False)])
def test_windowed_pooling_with_padding(pool_type, exclude_padding):
    spec, params = single_layer_spec("pooling", (1, 2, 5, 6))
    params.type, params.avgPoolExcludePadding = pool_type, exclude_padding
    params.kernelSize.extend((2, 2))
    params.stride.extend((2, 2))
    set_border(params.valid.paddingAmounts, 1, 1, 1, 1)
    x = random(1, 2, 5, 6)
    padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)), constant_values=np.nan)
    windows = np.stack([padded[:, :, i:i + 6:2, j:j + 8:2] for i in range(2) for j in range(2)])
    if pool_type == 0:
        expected = np.nanmax(windows, axis=0)
    elif exclude_padding:
        expected = np.nanmean(windows, axis=0)
    else:
        expected = np.nansum(windows, axis=0) / 4
    np.testing.assert_allclose(run_spec(spec, x=x)["y"], expected, **TOLERANCE)


# --- elementwise ---------------------------------------------------------------------------------

ACTIVATIONS = {
    "ReLU": (lambda p: None, lambda x: np.maximum(x, 0)),
    "sigmoid": (lambda p: None, lambda x: 1 / (1 + np.exp(-x))),
    "tanh": (lambda p: None, np.tanh),
    "linear": (lambda p: (setattr(p, "alpha", 1.5), setattr(p, "beta", -0.25)), lambda x: 1.5 * x - 0.25),
    "leakyReLU": (lambda p: setattr(p, "alpha", 0.1), lambda x: np.where(x >= 0, x, 0.1 * x)),
    "thresholdedReLU": (lambda p: setattr(p, "alpha", 0.5), lambda x: np.where(x >= 0.5, x, 0)),
    "scaledTanh": (lambda p: (setattr(p, "alpha", 2.0), setattr(p, "beta", 0.5)), lambda x: 2 * np.tanh(0.5 * x)),
    "sigmoidHard": (lambda p: (setattr(p, "alpha", 0.2), setattr(p, "beta", 0.5)),
                    lambda x: np.clip(0.2 * x + 0.5, 0, 1)),
    "ELU": (lambda p: setattr(p, "alpha", 0.7), lambda x: np.where(x >= 0, x, 0.7 * (np.exp(x) - 1))),
    "softsign": (lambda p: None, lambda x: x / (1 + np.abs(x))),
    "softplus": (lambda p: None, lambda x: np.log1p(np.exp(x))),
    "PReLU": (lambda p: p.alpha.floatValue.extend([0.1, 0.2, 0.3]),
              lambda x: np.where(x >= 0, x, np.array([0.1, 0.2, 0.3]).reshape(1, 3, 1, 1) * x)),
    "parametricSoftplus": (lambda p: (p.alpha.floatValue.extend([1.0, 2.0, 0.5]), p.beta.floatValue.extend([1.0])),
                           lambda x: np.array([1.0, 2.0, 0.5]).reshape(1, 3, 1, 1) * np.log1p(np.exp(x))),
}


@pytest.mark.parametrize("kind", list(ACTIVATIONS))
def test_activation(kind):
    configure, reference = ACTIVATIONS[kind]
    spec, params = single_layer_spec("activation", (1, 3, 4, 5))
    kind_params = getattr(params, kind)
    kind_params.SetInParent()
    configure(kind_params)
    x = random(1, 3, 4, 5)
    np.testing.assert_allclose(run_spec(spec, x=x)["y"], reference(x.astype(np.float64)), **TOLERANCE)


UNARY = {  # type: (alpha, epsilon, scale, shift, reference on the prescaled input)
    "sqrt": (0, 0.0, 0.0, 0.0, 0.0, np.sqrt),
    "rsqrt": (1, 0.0, 1e-3, 1.0, 0.0, lambda x: 1 / np.sqrt(x + 1e-3)),
    "rsqrt_default_epsilon": (1, 0.0, 0.0, 1.0, 0.0, lambda x: 1 / np.sqrt(x + 1e-6)),
    "inverse": (2, 0.0, 1e-2, 1.0, 0.5, lambda x: 1 / (x + 1e-2)),
    "power": (3, 3.0, 0.0, 2.0, 0.0, lambda x: x ** 3),
    "square": (3, 2.0, 0.0, 1.0, -1.0, lambda x: x ** 2),
    "exp": (4, 0.0, 0.0, 0.5, 0.0, np.exp),
    "log": (5, 0.0, 0.0, 1.0, 0.0, np.log),
    "abs": (6, 0.0, 0.0, 1.0, -1.0, np.abs),
    "threshold": (7, 1.2, 0.0, 1.0, 0.0, lambda x: np.maximum(x, 1.2)),
}


@pytest.mark.parametrize("case", list(UNARY))
def test_unary(case):
    kind, alpha, epsilon, scale, shift, reference = UNARY[case]
    spec, params = single_layer_spec("unary", (1, 3, 4, 5))
    params.type, params.alpha, params.epsilon, params.scale, params.shift = kind, alpha, epsilon, scale, shift
    x = random(1, 3, 4, 5, low=0.1, high=2.0)
    prescaled = (scale or 1.0) * x.astype(np.float64) + shift
    np.testing.assert_allclose(run_spec(spec, x=x)["y"], reference(prescaled), **TOLERANCE)


@pytest.mark.parametrize("kind, numpy_op", [("add", np.add), ("multiply", np.multiply)])
def test_add_and_multiply_with_one_input_use_alpha(kind, numpy_op):
    spec, params = single_layer_spec(kind, (1, 3, 4, 5))
    params.alpha = 2.5
    x = random(1, 3, 4, 5)
    np.testing.assert_allclose(run_spec(spec, x=x)["y"], numpy_op(x, 2.5), **TOLERANCE)


@pytest.mark.parametrize("kind, numpy_op", [("add", np.add), ("multiply", np.multiply)])
def test_add_and_multiply_broadcast_several_inputs(kind, numpy_op):
    spec, params = single_layer_spec(kind, (1, 3, 4, 5), {"a": (1, 3, 1, 1), "b": (1, 1, 4, 5)})
    params.alpha = 100.0
    x, a, b = random(1, 3, 4, 5), random(1, 3, 1, 1), random(1, 1, 4, 5)
    np.testing.assert_allclose(run_spec(spec, x=x, a=a, b=b)["y"], numpy_op(numpy_op(x, a), b), **TOLERANCE)


@pytest.mark.parametrize("kind, numpy_op", [
    ("addBroadcastable", np.add), ("subtractBroadcastable", np.subtract), ("multiplyBroadcastable", np.multiply),
    ("minBroadcastable", np.minimum), ("maxBroadcastable", np.maximum),
])
def test_broadcastable_binary(kind, numpy_op):
    spec, _ = single_layer_spec(kind, (1, 3, 4, 5), {"other": (3, 1, 5)})
    x, other = random(1, 3, 4, 5), random(3, 1, 5)
    np.testing.assert_allclose(run_spec(spec, x=x, other=other)["y"], numpy_op(x, other), **TOLERANCE)


def test_clip():
    spec, params = single_layer_spec("clip", (1, 3, 4, 5))
    params.minVal, params.maxVal = -0.5, 0.75
    x = random(1, 3, 4, 5)
    np.testing.assert_allclose(run_spec(spec, x=x)["y"], np.clip(x, -0.5, 0.75), **TOLERANCE)


def test_load_constant_nd_feeds_a_broadcast_minimum():
    spec = network_spec({"x": (1, 3, 4, 5)}, ["y"])
    constant = add_layer(spec, "loadConstantND", [], "limit")
    constant.shape.extend([3, 1, 1])
    constant.data.floatValue.extend([0.0, 0.5, -0.5])
    add_layer(spec, "minBroadcastable", ["x", "limit"], "y")
    x = random(1, 3, 4, 5)
    expected = np.minimum(x, np.array([0.0, 0.5, -0.5]).reshape(3, 1, 1))
    np.testing.assert_allclose(run_spec(spec, x=x)["y"], expected, **TOLERANCE)


# --- resampling --------------------------------------------------------------------------------

def test_nearest_upsample():
    spec, params = single_layer_spec("upsample", (1, 2, 3, 4))
    params.scalingFactor.extend((2, 3))
    x = random(1, 2, 3, 4)
    expected = x.repeat(2, axis=2).repeat(3, axis=3)
    np.testing.assert_allclose(run_spec(spec, x=x)["y"], expected, **TOLERANCE)


def _tf_resize(x: np.ndarray, size, convention: str) -> np.ndarray:
    nhwc = x.transpose(0, 2, 3, 1)
    if convention == "half_pixel":
        resized = tf.image.resize(nhwc, size, method="bilinear")
    else:
        resized = tf.compat.v1.image.resize_bilinear(nhwc, size, align_corners=convention == "align_corners")
    return resized.numpy().transpose(0, 3, 1, 2)


UPSAMPLE_MODES = {"DEFAULT": (0, "asymmetric"), "ALIGN_CORNERS_TRUE": (1, "align_corners"),
                  "ALIGN_CORNERS_FALSE": (2, "half_pixel")}


@pytest.mark.parametrize("mode", list(UPSAMPLE_MODES))
def test_bilinear_upsample_integer_factors(mode):
    linear_mode, convention = UPSAMPLE_MODES[mode]
    spec, params = single_layer_spec("upsample", (1, 2, 5, 6))
    params.mode, params.linearUpsampleMode = 1, linear_mode
    params.scalingFactor.extend((2, 3))
    x = random(1, 2, 5, 6)
    np.testing.assert_allclose(run_spec(spec, x=x)["y"], _tf_resize(x, (10, 18), convention), **TOLERANCE)


@pytest.mark.parametrize("size_in, size_out", [((48, 85), (108, 192)), ((30, 53), (67, 119)), ((7, 9), (16, 20))])
def test_fractional_bilinear_upsample_samples_like_tf_image_resize(size_in, size_out):
    spec, params = single_layer_spec("upsample", (1, 3, *size_in))
    params.mode, params.linearUpsampleMode = 1, 2
    params.fractionalScalingFactor.extend([float(np.float32(o / i)) for o, i in zip(size_out, size_in)])
    x = random(1, 3, *size_in, low=0, high=255)
    result = run_spec(spec, x=x)["y"]
    assert result.shape == (1, 3, *size_out)
    np.testing.assert_allclose(result, _tf_resize(x, size_out, "half_pixel"), rtol=0, atol=1e-2)


@pytest.mark.parametrize("size_in, factors, size_out", [
    ((4, 5), (1.6, 2.5), (6, 12)),
    ((30, 53), (67 / 30, 120 / 53), (67, 119)),  # float32(120/53) * 53 < 120: a factor must not be rounded down
    ((480, 853), (1080 / 480, 1920 / 853), (1080, 1920)),
])
def test_fractional_upsample_size_is_the_floor_of_size_times_float32_factor(size_in, factors, size_out):
    spec, params = single_layer_spec("upsample", (1, 1, *size_in))
    params.mode, params.linearUpsampleMode = 1, 2
    params.fractionalScalingFactor.extend(factors)
    assert run_spec(spec, x=random(1, 1, *size_in))["y"].shape == (1, 1, *size_out)


RESIZE_MODES = {
    "STRICT_ALIGN_ENDPOINTS_MODE": (0, lambda n_in, n_out: np.linspace(0, n_in - 1, n_out)),
    "ALIGN_ENDPOINTS_MODE": (1, lambda n_in, n_out: np.linspace(0, n_in - 1, n_out)),
    "UPSAMPLE_MODE": (2, lambda n_in, n_out: np.minimum(n_in - 1, np.arange(n_out) * n_in / n_out)),
    "ROI_ALIGN_MODE": (3, lambda n_in, n_out: np.minimum(
        n_in - 1, 0.5 * max(1, n_in - 1) / n_out + np.arange(n_out) * max(1, n_in - 1) / n_out)),
}


@pytest.mark.parametrize("mode", list(RESIZE_MODES))
@pytest.mark.parametrize("target", [(11, 17), (3, 2)])
def test_resize_bilinear(mode, target):
    method, grid = RESIZE_MODES[mode]
    spec, params = single_layer_spec("resizeBilinear", (1, 2, 5, 7))
    params.targetSize.extend(target)
    params.mode.samplingMethod = method
    x = random(1, 2, 5, 7)
    expected = bilinear_reference(x, grid(5, target[0]), grid(7, target[1]))
    np.testing.assert_allclose(run_spec(spec, x=x)["y"], expected, **TOLERANCE)


def test_resize_bilinear_align_endpoints_matches_tf_align_corners():
    spec, params = single_layer_spec("resizeBilinear", (1, 3, 12, 21))
    params.targetSize.extend((27, 48))
    params.mode.samplingMethod = 1
    x = random(1, 3, 12, 21, low=0, high=255)
    np.testing.assert_allclose(run_spec(spec, x=x)["y"], _tf_resize(x, (27, 48), "align_corners"), rtol=0, atol=1e-2)


def test_resize_bilinear_align_endpoints_single_row_samples_the_centre():
    spec, params = single_layer_spec("resizeBilinear", (1, 1, 4, 6))
    params.targetSize.extend((1, 6))
    params.mode.samplingMethod = 1
    x = random(1, 1, 4, 6)
    np.testing.assert_allclose(run_spec(spec, x=x)["y"], (x[:, :, 1:2] + x[:, :, 2:3]) / 2, **TOLERANCE)


# --- cropping, slicing, shapes ------------------------------------------------------------------

def test_crop_with_amounts():
    spec, params = single_layer_spec("crop", (1, 2, 6, 7))
    set_border(params.cropAmounts, 1, 2, 0, 3)
    x = random(1, 2, 6, 7)
    np.testing.assert_allclose(run_spec(spec, x=x)["y"], x[:, :, 1:, 2:4], **TOLERANCE)


def test_crop_to_a_reference_input():
    spec, params = single_layer_spec("crop", (1, 2, 6, 7), {"reference": (1, 2, 3, 4)})
    params.offset.extend((2, 1))
    x = random(1, 2, 6, 7)
    result = run_spec(spec, x=x, reference=random(1, 2, 3, 4))["y"]
    np.testing.assert_allclose(result, x[:, :, 2:5, 1:5], **TOLERANCE)


def test_transpose():
    spec, params = single_layer_spec("transpose", (1, 3, 4, 5))
    params.axes.extend((0, 2, 3, 1))
    x = random(1, 3, 4, 5)
    np.testing.assert_allclose(run_spec(spec, x=x)["y"], x.transpose(0, 2, 3, 1), **TOLERANCE)


SLICES = {  # begin, begin mask, end, end mask, stride, squeeze, numpy index
    "masks": ([0, 0, 0, 0], [True] * 4, [0, 30, 5, 0], [True, False, False, True], [1] * 4, [False] * 4,
              np.s_[:, :30, :5, :]),
    "negative_and_strided": ([0, 1, -4, 0], [True, False, False, True], [0, 3, -1, 2], [True, False, False, False],
                             [1, 1, 2, 1], [False] * 4, np.s_[:, 1:3, -4:-1:2, :2]),
    "reversed": ([0, 0, 0, 0], [True, True, True, True], [0, 0, 0, 0], [True] * 4, [1, 1, -1, 1], [False] * 4,
                 np.s_[:, :, ::-1, :]),
    "squeezed": ([0, 2, 0, 0], [True, False, True, True], [0, 3, 0, 0], [True, False, True, True], [1] * 4,
                 [False, True, False, False], np.s_[:, 2, :, :]),
}


@pytest.mark.parametrize("case", list(SLICES))
def test_slice_static(case):
    begin, begin_mask, end, end_mask, strides, squeeze, index = SLICES[case]
    spec, params = single_layer_spec("sliceStatic", (1, 4, 6, 5))
    params.beginIds.extend(begin)
    params.beginMasks.extend(begin_mask)
    params.endIds.extend(end)
    params.endMasks.extend(end_mask)
    params.strides.extend(strides)
    params.squeezeMasks.extend(squeeze)
    x = random(1, 4, 6, 5)
    np.testing.assert_allclose(run_spec(spec, x=x)["y"], x[index], **TOLERANCE)


@pytest.mark.parametrize("axis, index", [(0, np.s_[:, 1:3]), (1, np.s_[:, :, 2:-1]), (2, np.s_[..., 0:5:2])])
def test_slice_along_channel_height_width(axis, index):
    spec, params = single_layer_spec("slice", (1, 4, 6, 5))
    params.axis = axis
    start, end, stride = {0: (1, 3, 1), 1: (2, -1, 1), 2: (0, 5, 2)}[axis]
    params.startIndex, params.endIndex, params.stride = start, end, stride
    x = random(1, 4, 6, 5)
    np.testing.assert_allclose(run_spec(spec, x=x)["y"], x[index], **TOLERANCE)


def test_expand_dims_then_squeeze():
    spec = network_spec({"x": (3, 4)}, ["y", "z"])
    add_layer(spec, "expandDims", ["x"], "y").axes.extend([0, -1])
    add_layer(spec, "squeeze", ["y"], "z").squeezeAll = True
    x = random(3, 4)
    results = run_spec(spec, x=x)
    assert results["y"].shape == (1, 3, 4, 1)
    np.testing.assert_allclose(results["z"], x, **TOLERANCE)


def test_reshape_static():
    spec, params = single_layer_spec("reshapeStatic", (1, 3, 4, 5))
    params.targetShape.extend([1, 12, 5])
    x = random(1, 3, 4, 5)
    np.testing.assert_allclose(run_spec(spec, x=x)["y"], x.reshape(1, 12, 5), **TOLERANCE)


def test_tile():
    spec, params = single_layer_spec("tile", (1, 3, 2, 2))
    params.reps.extend([1, 1, 2, 3])
    x = random(1, 3, 2, 2)
    np.testing.assert_allclose(run_spec(spec, x=x)["y"], np.tile(x, (1, 1, 2, 3)), **TOLERANCE)


@pytest.mark.parametrize("axes, keep_dims, reduce_all", [([2, 3], True, False), ([-3], False, False),
                                                          ([], True, True)])
def test_reduce_mean(axes, keep_dims, reduce_all):
    spec, params = single_layer_spec("reduceMean", (1, 3, 4, 5))
    params.axes.extend(axes)
    params.keepDims, params.reduceAll = keep_dims, reduce_all
    x = random(1, 3, 4, 5)
    expected = x.mean(axis=None if reduce_all else tuple(axes), keepdims=keep_dims)
    np.testing.assert_allclose(run_spec(spec, x=x)["y"], expected, **TOLERANCE)


def test_float16_weights_are_read():
    spec, params = single_layer_spec("convolution", (1, 2, 4, 4))
    params.outputChannels, params.kernelChannels = 3, 2
    params.kernelSize.extend((1, 1))
    weights = random(3, 2, 1, 1).astype(np.float16)
    params.weights.float16Value = weights.tobytes()
    x = random(1, 2, 4, 4)
    expected = np.einsum("nchw,oc->nohw", x, weights[:, :, 0, 0].astype(np.float32))
    np.testing.assert_allclose(run_spec(spec, x=x)["y"], expected, **TOLERANCE)
