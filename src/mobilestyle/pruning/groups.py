"""Channel groups: the sets of weight slices that one prunable channel owns.

A group is a run of channels produced together and consumed together. Removing channel k of a group
removes index k along the given axis of every weight listed in it. Groups of a TransformerNet:
- `conv1`, `conv2`: the stem convs' outputs (consumed by the next stem conv);
- `trunk`: conv3's output and every residual block's second conv output. They are added together,
  so they share one mask; the trunk is consumed by each block's first conv and by up1;
- `res{i}_inner`: the inner width of block i (res{i}_conv1 output, consumed by res{i}_conv2);
- `up1`, `up2`: the upsampling convs' outputs (consumed by up2 and by the output conv).
"""

from __future__ import annotations

from dataclasses import dataclass

from mobilestyle.errors import UserError
from mobilestyle.networks.arch import ArchSpec

NORM_WEIGHTS = ("gamma", "beta", "moving_mean", "moving_variance")
HWIO_IN, HWIO_OUT = 2, 3


@dataclass(frozen=True)
class ChannelGroup:
    name: str
    width: int
    norms: tuple[str, ...]
    slices: tuple[tuple[str, int], ...]


def _conv_slices(arch: ArchSpec, layer: str, side: str) -> list[tuple[str, int]]:
    """(weight key, axis) of a conv layer's output (side='out') or input (side='in') channels."""
    if layer.startswith("up") and arch.upsample == "transposed":
        return [(f"{layer}/kernel", HWIO_IN if side == "out" else HWIO_OUT)]
    if layer.startswith("res") and arch.conv == "separable":
        if side == "out":
            return [(f"{layer}_pw/kernel", HWIO_OUT)]
        return [(f"{layer}_dw/kernel", HWIO_IN), (f"{layer}_pw/kernel", HWIO_IN)]
    return [(f"{layer}/kernel", HWIO_OUT if side == "out" else HWIO_IN)]


def _norm_slices(norms: tuple[str, ...]) -> list[tuple[str, int]]:
    return [(f"{norm}/{weight}", 0) for norm in norms for weight in NORM_WEIGHTS]


def _group(arch: ArchSpec, name: str, width: int, producers: list[str], consumers: list[str]) -> ChannelGroup:
    norms = tuple(f"{layer}_norm" for layer in producers)
    slices = [s for layer in producers for s in _conv_slices(arch, layer, "out")]
    slices += [s for layer in consumers for s in _conv_slices(arch, layer, "in")]
    return ChannelGroup(name, width, norms, tuple(slices + _norm_slices(norms)))


def require_batch_norm(arch: ArchSpec) -> None:
    if arch.norm != "batch":
        raise UserError(f"slimming needs batch norm (its gamma scores the channels); this net uses {arch.norm} norm "
                        "(distill it into a batch-norm student first)")


def channel_groups(arch: ArchSpec) -> list[ChannelGroup]:
    """The prunable channel groups of `arch`, in network order."""
    require_batch_norm(arch)
    c1, c2, c3 = arch.widths
    blocks = [f"res{i}" for i in range(1, arch.blocks + 1)]
    groups = [
        _group(arch, "conv1", c1, ["conv1"], ["conv2"]),
        _group(arch, "conv2", c2, ["conv2"], ["conv3"]),
        _group(arch, "trunk", c3, ["conv3"] + [f"{b}_conv2" for b in blocks], [f"{b}_conv1" for b in blocks] + ["up1"]),
    ]
    for block, inner in zip(blocks, arch.block_widths):
        groups.append(_group(arch, f"{block}_inner", inner, [f"{block}_conv1"], [f"{block}_conv2"]))
    groups.append(_group(arch, "up1", arch.up_widths[0], ["up1"], ["up2"]))
    groups.append(_group(arch, "up2", arch.up_widths[1], ["up2"], ["out"]))
    return groups


def arch_with_widths(arch: ArchSpec, widths: dict[str, int]) -> ArchSpec:
    """`arch` with the group widths replaced (groups absent from `widths` keep their width)."""
    width = {group.name: widths.get(group.name, group.width) for group in channel_groups(arch)}
    return ArchSpec.from_dict({
        **arch.to_dict(),
        "widths": [width["conv1"], width["conv2"], width["trunk"]],
        "block_widths": [width[f"res{i}_inner"] for i in range(1, arch.blocks + 1)],
        "up_widths": [width["up1"], width["up2"]],
    })
