"""The architecture spec of the TransformerNet family, and its text form used by `--arch`.

Text form: comma-separated `key=value` pairs, any subset, e.g.
`blocks=3,widths=32/64/128,conv=separable,norm=instance,upsample=transposed,padding=zero`.
Keys:
  blocks        number of residual blocks (1-5)
  widths        stem widths c1/c2/c3 (c3 is the residual trunk width)
  block_widths  inner width of each residual block, one per block (default: c3 each)
  up_widths     widths of the two upsampling convs (default: c2/c1)
  conv          full | separable (3x3 convs inside the residual blocks)
  norm          batch | instance
  upsample      nearest (nearest-resize + conv) | transposed (transposed conv)
  padding       reflect (explicit symmetric reflection) | zero (TF 'SAME' zero padding)
  output        sigmoid (255*sigmoid) | tanh150 (clip(150*tanh+127.5)) | clip (clip(x))
  out_norm      yes | no: a norm layer after the last conv (lengstrom's teachers have one)
  eps           normalization epsilon
  antialias     yes | no: a fixed 3x3 binomial blur before each stride-2 conv and after each nearest
                upsample (Zhang 2019, blur before subsampling); needs upsample=nearest; adds no weights
  width         a multiplier applied to every width (convenience, e.g. width=0.5)
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass

from mobilestyle.errors import UserError

CONV_KINDS = ("full", "separable")
NORM_KINDS = ("batch", "instance")
UPSAMPLE_KINDS = ("nearest", "transposed")
PADDING_KINDS = ("reflect", "zero")
OUTPUT_KINDS = ("sigmoid", "tanh150", "clip")


@dataclass(frozen=True)
class ArchSpec:
    blocks: int = 3
    widths: tuple[int, int, int] = (32, 64, 128)
    block_widths: tuple[int, ...] | None = None
    up_widths: tuple[int, int] | None = None
    conv: str = "full"
    norm: str = "batch"
    upsample: str = "nearest"
    padding: str = "reflect"
    output: str = "sigmoid"
    out_norm: bool = False
    eps: float = 1e-5
    antialias: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "widths", tuple(int(w) for w in self.widths))
        if len(self.widths) != 3:
            raise UserError(f"widths needs 3 values (c1/c2/c3), got {len(self.widths)}")
        if self.block_widths is None:
            object.__setattr__(self, "block_widths", (self.widths[2],) * self.blocks)
        else:
            object.__setattr__(self, "block_widths", tuple(int(w) for w in self.block_widths))
        if self.up_widths is None:
            object.__setattr__(self, "up_widths", (self.widths[1], self.widths[0]))
        else:
            object.__setattr__(self, "up_widths", tuple(int(w) for w in self.up_widths))
        self.validate()

    def validate(self) -> None:
        if not 1 <= self.blocks <= 5:
            raise UserError(f"blocks must be 1..5, got {self.blocks}")
        if len(self.widths) != 3:
            raise UserError(f"widths needs 3 values (c1/c2/c3), got {len(self.widths)}")
        if len(self.block_widths) != self.blocks:
            raise UserError(f"block_widths needs {self.blocks} values (one per block), got {len(self.block_widths)}")
        if len(self.up_widths) != 2:
            raise UserError(f"up_widths needs 2 values, got {len(self.up_widths)}")
        for width in (*self.widths, *self.block_widths, *self.up_widths):
            if width < 1:
                raise UserError(f"every width must be at least 1, got {width}")
        for key, kinds in (("conv", CONV_KINDS), ("norm", NORM_KINDS), ("upsample", UPSAMPLE_KINDS),
                           ("padding", PADDING_KINDS), ("output", OUTPUT_KINDS)):
            if getattr(self, key) not in kinds:
                raise UserError(f"{key} must be one of {', '.join(kinds)}, got {getattr(self, key)!r}")
        if not 0 < self.eps < 1:
            raise UserError(f"eps must be in (0, 1), got {self.eps}")
        if self.antialias and self.upsample == "transposed":
            raise UserError("antialias=yes needs upsample=nearest: a transposed conv upsamples and convolves in one "
                            "step, leaving no point between them for the blur")

    @property
    def trunk_width(self) -> int:
        return self.widths[2]

    def to_dict(self) -> dict:
        """The fields as JSON values; `antialias` only when on, so plain nets' headers stay as they were."""
        fields = dataclasses.asdict(self)
        if not self.antialias:
            del fields["antialias"]
        return {key: list(value) if isinstance(value, tuple) else value for key, value in fields.items()}

    @classmethod
    def from_dict(cls, data: dict) -> "ArchSpec":
        known = {field.name for field in dataclasses.fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise UserError(f"unknown architecture keys: {', '.join(sorted(unknown))}")
        values = {key: tuple(value) if isinstance(value, list) else value for key, value in data.items()}
        return cls(**values)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    def __str__(self) -> str:
        text = (f"blocks={self.blocks},widths={_join(self.widths)},conv={self.conv},norm={self.norm},"
                f"upsample={self.upsample},padding={self.padding},output={self.output}")
        if self.block_widths != (self.trunk_width,) * self.blocks:
            text += f",block_widths={_join(self.block_widths)}"
        if self.up_widths != (self.widths[1], self.widths[0]):
            text += f",up_widths={_join(self.up_widths)}"
        if self.out_norm:
            text += ",out_norm=yes"
        if self.eps != 1e-5:
            text += f",eps={self.eps:g}"
        if self.antialias:
            text += ",antialias=yes"
        return text

    @classmethod
    def parse(cls, text: str | None) -> "ArchSpec":
        """Parse the `--arch` text form (see the module docstring); empty or 'default' is the default net."""
        if text is None or text.strip() in ("", "default"):
            return cls()
        values: dict = {}
        multiplier = 1.0
        for item in text.split(","):
            item = item.strip()
            if not item:
                continue
            if "=" not in item:
                raise UserError(f"--arch item {item!r} is not key=value (see `mobilestyle inspect --help`)")
            key, value = (part.strip() for part in item.split("=", 1))
            try:
                if key == "blocks":
                    values[key] = int(value)
                elif key in ("widths", "block_widths", "up_widths"):
                    values[key] = tuple(int(part) for part in value.split("/"))
                elif key in ("out_norm", "antialias"):
                    if value not in ("yes", "no"):
                        raise UserError(f"--arch {key} must be yes or no, got {value!r}")
                    values[key] = value == "yes"
                elif key == "eps":
                    values[key] = float(value)
                elif key == "width":
                    multiplier = float(value)
                elif key in ("conv", "norm", "upsample", "padding", "output"):
                    values[key] = value
                else:
                    raise UserError(f"unknown --arch key {key!r}")
            except ValueError:
                raise UserError(f"--arch {key} has a bad value {value!r}") from None
        if multiplier != 1.0:
            if multiplier <= 0:
                raise UserError(f"--arch width multiplier must be positive, got {multiplier}")
            scale = lambda widths: tuple(max(1, round(w * multiplier)) for w in widths)  # noqa: E731
            base = cls(**{k: v for k, v in values.items() if k in ("blocks", "widths", "block_widths", "up_widths")})
            values["widths"] = scale(base.widths)
            values["block_widths"] = scale(base.block_widths)
            values["up_widths"] = scale(base.up_widths)
        return cls(**values)


def _join(values: tuple[int, ...]) -> str:
    return "/".join(str(v) for v in values)
