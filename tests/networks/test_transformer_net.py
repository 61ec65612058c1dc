import keras
import numpy as np
import pytest

from mobilestyle.networks.arch import ArchSpec
from mobilestyle.networks.counting import count, layer_costs
from mobilestyle.networks.transformer_net import BinomialBlur, build_transformer_net


@pytest.mark.parametrize("text", [
    "default",
    "blocks=1,conv=separable",
    "norm=instance,upsample=transposed,padding=zero,output=tanh150,out_norm=yes",
    "blocks=2,widths=8/16/24,block_widths=5/31,up_widths=12/6,output=clip",
    "blocks=1,padding=zero,antialias=yes",
])
@pytest.mark.parametrize("height, width", [(64, 96), (37, 53)])
def test_output_has_the_input_size_and_pixel_range(text, height, width):
    model = build_transformer_net(ArchSpec.parse(text), height, width)
    image = np.random.default_rng(0).uniform(0, 255, (1, height, width, 3)).astype(np.float32)
    out = model(image).numpy()
    assert out.shape == (1, height, width, 3)
    assert out.min() >= 0.0 and out.max() <= 255.0


def test_default_counts_match_hand_arithmetic_at_853x480():
    parameters, macs = count(ArchSpec())
    h, w = 480, 856  # the network pads 853 to 856 internally
    conv = lambda oh, ow, k, cin, cout: oh * ow * k * k * cin * cout  # noqa: E731
    expected_macs = (conv(h, w, 9, 3, 32) + conv(h // 2, w // 2, 3, 32, 64) + conv(h // 4, w // 4, 3, 64, 128)
                     + 6 * conv(h // 4, w // 4, 3, 128, 128)
                     + conv(h // 2, w // 2, 3, 128, 64) + conv(h, w, 3, 64, 32) + conv(h, w, 9, 32, 3))
    conv_params = 9 * 9 * 3 * 32 + 9 * 32 * 64 + 9 * 64 * 128 + 6 * 9 * 128 * 128 + 9 * 128 * 64 + 9 * 64 * 32
    norm_params = 2 * (32 + 64 + 128 + 6 * 128 + 64 + 32)
    assert macs == expected_macs
    assert parameters == conv_params + norm_params + 9 * 9 * 32 * 3 + 3
    assert round(macs / 1e9, 1) == 48.0


def test_lengstrom_teacher_layout_has_its_published_parameter_count():
    spec = ArchSpec(blocks=5, norm="instance", upsample="transposed", padding="zero", output="tanh150",
                    out_norm=True, eps=1e-3)
    assert count(spec)[0] == 1_677_638


def test_separable_blocks_cost_less():
    full = sum(c.macs for c in layer_costs(build_transformer_net(ArchSpec(), 480, 853)))
    separable = sum(c.macs for c in layer_costs(build_transformer_net(ArchSpec(conv="separable"), 480, 853)))
    assert separable < full - 15e9


def test_binomial_blur_is_a_fixed_reflect_padded_1_2_1_kernel_per_channel():
    image = np.random.default_rng(1).uniform(0, 255, (1, 7, 9, 2)).astype(np.float32)
    padded = np.pad(image, [(0, 0), (1, 1), (1, 1), (0, 0)], mode="reflect")
    taps = np.array([1.0, 2.0, 1.0]) / 4.0
    expected = sum(taps[dy] * taps[dx] * padded[:, dy:dy + 7, dx:dx + 9, :] for dy in range(3) for dx in range(3))
    blur = BinomialBlur()
    np.testing.assert_allclose(blur(image).numpy(), expected, rtol=1e-5, atol=1e-3)
    assert not blur.weights
    stripes = np.tile(np.array([0.0, 255.0], np.float32), 8)[None, None, :, None] * np.ones((1, 8, 1, 1), np.float32)
    np.testing.assert_allclose(blur(stripes).numpy()[:, :, 1:-1], 127.5)  # the Nyquist frequency is gone
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(BinomialBlur(name="b")))
    assert isinstance(restored, BinomialBlur) and restored.name == "b"


def test_antialias_blurs_before_each_stride_2_conv_and_after_each_resize():
    model = build_transformer_net(ArchSpec(antialias=True), 64, 96)
    blurs = {layer.name for layer in model.layers if isinstance(layer, BinomialBlur)}
    assert blurs == {"conv2_blur", "conv3_blur", "up1_blur", "up2_blur"}
    assert model.get_layer("conv2_pad").input is model.get_layer("conv2_blur").output
    assert model.get_layer("conv3_pad").input is model.get_layer("conv3_blur").output
    assert model.get_layer("up1_blur").input is model.get_layer("up1_resize").output
    assert model.get_layer("up1_pad").input is model.get_layer("up1_blur").output
    plain = build_transformer_net(ArchSpec(), 64, 96)
    assert [(w.path, w.shape) for w in model.weights] == [(w.path, w.shape) for w in plain.weights]


def test_antialias_counts_nine_macs_per_blurred_element():
    plain_parameters, plain_macs = count(ArchSpec())
    parameters, macs = count(ArchSpec(antialias=True))
    h, w = 480, 856
    blur = lambda oh, ow, channels: oh * ow * 9 * channels  # noqa: E731
    expected_blur_macs = (blur(h, w, 32) + blur(h // 2, w // 2, 64)  # before conv2, conv3
                          + blur(h // 2, w // 2, 128) + blur(h, w, 64))  # after the resizes of up1, up2
    assert parameters == plain_parameters
    assert macs - plain_macs == expected_blur_macs == 532_500_480
