import numpy as np
import pytest

from mobilestyle.networks.arch import ArchSpec
from mobilestyle.networks.counting import count, layer_costs
from mobilestyle.networks.transformer_net import build_transformer_net


@pytest.mark.parametrize("text", [
    "default",
    "blocks=1,conv=separable",
    "norm=instance,upsample=transposed,padding=zero,output=tanh150,out_norm=yes",
    "blocks=2,widths=8/16/24,block_widths=5/31,up_widths=12/6,output=clip",
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
