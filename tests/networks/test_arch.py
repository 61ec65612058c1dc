import pytest

from mobilestyle.errors import UserError
from mobilestyle.networks.arch import ArchSpec


def test_default_is_three_block_batchnorm_32_64_128():
    spec = ArchSpec.parse(None)
    assert (spec.blocks, spec.widths, spec.norm, spec.conv) == (3, (32, 64, 128), "batch", "full")
    assert spec.block_widths == (128, 128, 128) and spec.up_widths == (64, 32)


@pytest.mark.parametrize("text", [
    "blocks=1",
    "blocks=5,conv=separable,norm=instance,upsample=transposed,padding=zero",
    "blocks=2,widths=20/40/60,block_widths=64/17,up_widths=50/20",
    "output=tanh150,out_norm=yes,eps=0.001",
    "blocks=2,conv=separable,padding=zero,antialias=yes",
])
def test_text_form_round_trips(text):
    spec = ArchSpec.parse(text)
    assert ArchSpec.parse(str(spec)) == spec
    assert ArchSpec.from_dict(spec.to_dict()) == spec


SHIPPED_STYLE_ARCH = ("blocks=3,widths=32/64/128,conv=full,norm=batch,upsample=nearest,padding=reflect,"
                      "output=tanh150,out_norm=yes,eps=0.001")


def test_antialias_no_keeps_the_text_form_and_yes_appears_in_it():
    assert str(ArchSpec.parse(SHIPPED_STYLE_ARCH)) == SHIPPED_STYLE_ARCH
    assert str(ArchSpec.parse(SHIPPED_STYLE_ARCH + ",antialias=no")) == SHIPPED_STYLE_ARCH
    antialiased = ArchSpec.parse(SHIPPED_STYLE_ARCH + ",antialias=yes")
    assert antialiased.antialias and str(antialiased) == SHIPPED_STYLE_ARCH + ",antialias=yes"
    assert "antialias" not in ArchSpec().to_dict()  # a plain net's header is what it was before the key
    assert ArchSpec.from_dict(antialiased.to_dict()) == antialiased


def test_width_multiplier_scales_every_width():
    spec = ArchSpec.parse("width=0.5")
    assert spec.widths == (16, 32, 64) and spec.block_widths == (64,) * 3 and spec.up_widths == (32, 16)


@pytest.mark.parametrize("text, message", [
    ("blocks=0", "blocks must be 1..5"),
    ("blocks=6", "blocks must be 1..5"),
    ("norm=layer", "norm must be one of"),
    ("widths=32/64", "widths needs 3 values"),
    ("blocks=2,block_widths=8", "block_widths needs 2 values"),
    ("colour=blue", "unknown --arch key"),
    ("blocks", "is not key=value"),
    ("blocks=three", "bad value"),
    ("antialias=maybe", "antialias must be yes or no"),
    ("upsample=transposed,antialias=yes", "antialias=yes needs upsample=nearest"),
])
def test_bad_specs_are_user_errors(text, message):
    with pytest.raises(UserError, match=message):
        ArchSpec.parse(text)
