"""Exact parameter and multiply-accumulate counts, per layer, of a built network."""

from __future__ import annotations

from dataclasses import dataclass

import keras

from mobilestyle import frame
from mobilestyle.networks.arch import ArchSpec
from mobilestyle.networks.transformer_net import BinomialBlur, build_transformer_net


@dataclass(frozen=True)
class LayerCost:
    name: str
    kind: str
    output_shape: tuple[int, ...]
    parameters: int
    macs: int


def _macs(layer: keras.layers.Layer) -> int:
    """MACs of one conv or blur layer for a batch of one (norms, activations and adds are not MACs)."""
    if isinstance(layer, BinomialBlur):
        out_h, out_w, out_c = layer.output.shape[1:]
        return out_h * out_w * BinomialBlur.KERNEL_SIZE**2 * out_c
    if not isinstance(layer, keras.layers.Conv2D | keras.layers.DepthwiseConv2D | keras.layers.Conv2DTranspose):
        return 0
    in_h, in_w, in_c = layer.input.shape[1:]
    out_h, out_w, out_c = layer.output.shape[1:]
    kernel_h, kernel_w = layer.kernel_size
    if isinstance(layer, keras.layers.DepthwiseConv2D):
        return out_h * out_w * kernel_h * kernel_w * in_c
    if isinstance(layer, keras.layers.Conv2DTranspose):
        return in_h * in_w * kernel_h * kernel_w * in_c * out_c
    return out_h * out_w * kernel_h * kernel_w * in_c * out_c


def layer_costs(model: keras.Model) -> list[LayerCost]:
    """Trainable parameters and MACs of every layer that has weights or costs MACs, in network order."""
    costs = []
    for layer in model.layers:
        macs = _macs(layer)
        if not layer.weights and not macs:
            continue
        parameters = sum(int(w.numpy().size) for w in layer.trainable_weights)
        costs.append(LayerCost(layer.name, type(layer).__name__, tuple(layer.output.shape[1:]), parameters, macs))
    return costs


def count(spec: ArchSpec, height: int = frame.INPUT_HEIGHT, width: int = frame.INPUT_WIDTH) -> tuple[int, int]:
    """(trainable parameters, MACs per frame) of `spec` at the given input size."""
    costs = layer_costs(build_transformer_net(spec, height, width))
    return sum(c.parameters for c in costs), sum(c.macs for c in costs)
