"""The TransformerNet family (Johnson et al.) in Keras, built from an `ArchSpec`.

Layout: conv1 9x9 -> conv2 3x3/2 -> conv3 3x3/2 -> residual blocks -> up1 -> up2 -> out 9x9.
With `antialias`, a fixed binomial blur runs before conv2 and conv3 and after each upsampling resize.
The network takes RGB pixels in 0..255 (NHWC) and returns RGB in 0..255. Inputs whose height
or width is not a multiple of 4 (853 wide) are reflection-padded on the bottom/right inside the
network and the result is cropped back, so any input size works.

Layer names are stable: checkpoints, pruning and the MAC counter refer to them.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from mobilestyle.networks.arch import ArchSpec


@keras.saving.register_keras_serializable("mobilestyle")
class ReflectionPad(keras.layers.Layer):
    """Symmetric reflection padding of `pad` pixels on every side."""

    def __init__(self, pad: int, **kwargs):
        super().__init__(**kwargs)
        self.pad = pad

    def call(self, x):
        p = self.pad
        return tf.pad(x, [[0, 0], [p, p], [p, p], [0, 0]], mode="REFLECT")

    def get_config(self):
        return {**super().get_config(), "pad": self.pad}


@keras.saving.register_keras_serializable("mobilestyle")
class PadToMultiple(keras.layers.Layer):
    """Reflection-pads the bottom/right so that height and width are multiples of `multiple`."""

    def __init__(self, pad_bottom: int, pad_right: int, **kwargs):
        super().__init__(**kwargs)
        self.pad_bottom, self.pad_right = pad_bottom, pad_right

    def call(self, x):
        return tf.pad(x, [[0, 0], [0, self.pad_bottom], [0, self.pad_right], [0, 0]], mode="REFLECT")

    def get_config(self):
        return {**super().get_config(), "pad_bottom": self.pad_bottom, "pad_right": self.pad_right}


@keras.saving.register_keras_serializable("mobilestyle")
class CropTo(keras.layers.Layer):
    def __init__(self, height: int, width: int, **kwargs):
        super().__init__(**kwargs)
        self.height, self.width = height, width

    def call(self, x):
        return x[:, : self.height, : self.width, :]

    def get_config(self):
        return {**super().get_config(), "height": self.height, "width": self.width}


@keras.saving.register_keras_serializable("mobilestyle")
class NearestUpsample2x(keras.layers.Layer):
    """Nearest-neighbour x2 resize; converts to a single Core ML `upsample` layer."""

    def call(self, x):
        size = tf.shape(x)[1:3] * 2
        if x.shape[1] is not None and x.shape[2] is not None:
            size = (x.shape[1] * 2, x.shape[2] * 2)
        return tf.image.resize(x, size, method="nearest")


@keras.saving.register_keras_serializable("mobilestyle")
class BinomialBlur(keras.layers.Layer):
    """A fixed 3x3 binomial blur ([1,2,1]/4 outer product) of each channel, reflection-padded by 1 px.

    Blurring before a stride-2 conv (or after a nearest upsample) damps the frequencies that the
    subsampling grid would alias (Zhang 2019). The kernel is a constant, not a weight: checkpoints
    of an antialiased net hold the same weights as those of its plain twin.
    """

    KERNEL_SIZE = 3

    def call(self, x):
        taps = np.array([1.0, 2.0, 1.0], np.float32) / 4.0
        kernel = np.tile(np.outer(taps, taps)[:, :, None, None], (1, 1, x.shape[-1], 1))
        x = tf.pad(x, [[0, 0], [1, 1], [1, 1], [0, 0]], mode="REFLECT")
        return tf.nn.depthwise_conv2d(x, kernel, strides=[1, 1, 1, 1], padding="VALID")


@keras.saving.register_keras_serializable("mobilestyle")
class InstanceNorm(keras.layers.Layer):
    """Per-image, per-channel normalization over H and W with a learned scale and shift.

    Written as `tf.nn.moments` + `tf.nn.batch_normalization` because that is the form coremltools fuses
    into one Core ML `instance_norm` op (an instance-mode `batchnorm` layer in a NeuralNetwork); the same
    function spelled out as `(x - mean) * rsqrt(var + eps)` stays a dozen elementwise layers on the phone.
    """

    def __init__(self, epsilon: float = 1e-5, **kwargs):
        super().__init__(**kwargs)
        self.epsilon = epsilon

    def build(self, input_shape):
        channels = input_shape[-1]
        self.gamma = self.add_weight(name="gamma", shape=(channels,), initializer="ones")
        self.beta = self.add_weight(name="beta", shape=(channels,), initializer="zeros")

    def call(self, x):
        mean, variance = tf.nn.moments(x, axes=[1, 2], keepdims=True)
        return tf.nn.batch_normalization(x, mean, variance, self.beta, self.gamma, self.epsilon)

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon}


@keras.saving.register_keras_serializable("mobilestyle")
class OutputScale(keras.layers.Layer):
    """Maps the last conv's output to pixels in 0..255."""

    def __init__(self, kind: str, **kwargs):
        super().__init__(**kwargs)
        self.kind = kind

    def call(self, x):
        if self.kind == "sigmoid":
            return tf.sigmoid(x) * 255.0
        if self.kind == "tanh150":
            return tf.clip_by_value(tf.tanh(x) * 150.0 + 127.5, 0.0, 255.0)
        return tf.clip_by_value(x, 0.0, 255.0)

    def get_config(self):
        return {**super().get_config(), "kind": self.kind}


def _norm(spec: ArchSpec, name: str):
    if spec.norm == "batch":
        return keras.layers.BatchNormalization(epsilon=spec.eps, momentum=0.9, name=f"{name}_norm")
    return InstanceNorm(epsilon=spec.eps, name=f"{name}_norm")


def _conv(x, spec: ArchSpec, filters: int, kernel: int, stride: int, name: str, use_bias: bool = False):
    """A kxk conv with the spec's padding kind: explicit reflection, or TF 'SAME' zeros."""
    if spec.padding == "reflect":
        x = ReflectionPad(kernel // 2, name=f"{name}_pad")(x)
        padding = "valid"
    else:
        padding = "same"
    return keras.layers.Conv2D(filters, kernel, strides=stride, padding=padding, use_bias=use_bias, name=name)(x)


def _block_conv(x, spec: ArchSpec, filters: int, name: str):
    """A residual-block 3x3 conv: full, or depthwise 3x3 followed by pointwise 1x1."""
    if spec.conv == "full":
        return _conv(x, spec, filters, 3, 1, name)
    if spec.padding == "reflect":
        x = ReflectionPad(1, name=f"{name}_pad")(x)
        padding = "valid"
    else:
        padding = "same"
    x = keras.layers.DepthwiseConv2D(3, padding=padding, use_bias=False, name=f"{name}_dw")(x)
    return keras.layers.Conv2D(filters, 1, use_bias=False, name=f"{name}_pw")(x)


def _upsample(x, spec: ArchSpec, filters: int, name: str):
    if spec.upsample == "transposed":
        return keras.layers.Conv2DTranspose(filters, 3, strides=2, padding="same", use_bias=False, name=name)(x)
    x = NearestUpsample2x(name=f"{name}_resize")(x)
    if spec.antialias:
        x = BinomialBlur(name=f"{name}_blur")(x)
    return _conv(x, spec, filters, 3, 1, name)


def build_transformer_net(spec: ArchSpec | None = None, height: int | None = None,
                          width: int | None = None, name: str = "transformer_net") -> keras.Model:
    """Build the network for inputs of `height` x `width` (None: any size that is a multiple of 4)."""
    spec = spec or ArchSpec()
    inputs = keras.Input(shape=(height, width, 3), name="image")
    x = inputs
    pad_bottom = (-height) % 4 if height else 0
    pad_right = (-width) % 4 if width else 0
    if pad_bottom or pad_right:
        x = PadToMultiple(pad_bottom, pad_right, name="pad_to_multiple")(x)

    c1, c2, c3 = spec.widths
    for layer_name, filters, kernel, stride in (("conv1", c1, 9, 1), ("conv2", c2, 3, 2), ("conv3", c3, 3, 2)):
        if spec.antialias and stride == 2:
            x = BinomialBlur(name=f"{layer_name}_blur")(x)
        x = _conv(x, spec, filters, kernel, stride, layer_name)
        x = _norm(spec, layer_name)(x)
        x = keras.layers.ReLU(name=f"{layer_name}_relu")(x)

    for index, inner in enumerate(spec.block_widths, start=1):
        block = f"res{index}"
        y = _block_conv(x, spec, inner, f"{block}_conv1")
        y = _norm(spec, f"{block}_conv1")(y)
        y = keras.layers.ReLU(name=f"{block}_relu")(y)
        y = _block_conv(y, spec, c3, f"{block}_conv2")
        y = _norm(spec, f"{block}_conv2")(y)
        x = keras.layers.Add(name=f"{block}_add")([x, y])

    for layer_name, filters in zip(("up1", "up2"), spec.up_widths):
        x = _upsample(x, spec, filters, layer_name)
        x = _norm(spec, layer_name)(x)
        x = keras.layers.ReLU(name=f"{layer_name}_relu")(x)

    x = _conv(x, spec, 3, 9, 1, "out", use_bias=not spec.out_norm)
    if spec.out_norm:
        x = _norm(spec, "out")(x)
    x = OutputScale(spec.output, name="output_scale")(x)
    if pad_bottom or pad_right:
        x = CropTo(height, width, name="crop")(x)
    return keras.Model(inputs, x, name=name)


def weighted_layers(model: keras.Model) -> dict[str, keras.layers.Layer]:
    """The layers that own weights, by name."""
    return {layer.name: layer for layer in model.layers if layer.weights}
