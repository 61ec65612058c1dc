"""Translating a Core ML NeuralNetwork spec into an equivalent float32 ONNX model.

Inputs keep their Core ML names. An image input becomes a float32 [1, C, H, W] tensor of pixel
values (0..255, in the image's channel order) and the spec's preprocessing (scaler or mean image)
is applied inside the graph, as Core ML does. Outputs keep their names and are the raw network
values: turning an image output into pixels (clamping, rounding) is the caller's business.
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto

from mobilestyle.errors import UserError
from mobilestyle.runner import layers_elementwise, layers_resample, layers_spatial, layers_tensor
from mobilestyle.runner.onnx_builder import GraphBuilder

LAYER_HANDLERS = {
    **layers_spatial.HANDLERS,
    **layers_resample.HANDLERS,
    **layers_elementwise.HANDLERS,
    **layers_tensor.HANDLERS,
}

RANK5_MAPPING = 0


def supported_layer_types() -> list[str]:
    return sorted(LAYER_HANDLERS)


def spec_to_onnx(spec) -> onnx.ModelProto:
    """The ONNX model computing what the Core ML NeuralNetwork `spec` computes."""
    kind = spec.WhichOneof("Type")
    if kind == "mlProgram":
        raise UserError("this is an mlprogram (.mlpackage) model; translate it with mil_to_onnx.program_to_onnx")
    if kind != "neuralNetwork":
        raise UserError(f"the Core ML model is a {kind!r}, not a neuralNetwork; the Linux runner runs only "
                        f"neural networks")
    network = spec.neuralNetwork
    reserved = {f.name for f in spec.description.input}
    reserved |= {name for layer in network.layers for name in layer.output}
    g = GraphBuilder(reserved)
    preprocessing = {p.featureName: p for p in network.preprocessing}
    for feature in spec.description.input:
        _add_input(g, feature, network, preprocessing.get(feature.name))
    for layer in network.layers:
        layer_type = layer.WhichOneof("layer")
        handler = LAYER_HANDLERS.get(layer_type)
        if handler is None:
            raise UserError(f"layer {layer.name!r} has type {layer_type!r}, which the Linux runner does not "
                            f"support (supported: {', '.join(supported_layer_types())})")
        if not len(layer.output):
            raise UserError(f"layer {layer.name!r} ({layer_type}) has no output")
        handler(layer, g)
    for feature in spec.description.output:
        if not g.has(feature.name):
            raise UserError(f"no layer produces the model output {feature.name!r}")
        g.add_output(feature.name)
    return g.to_model("coreml_neural_network", doc=spec.description.metadata.shortDescription)


def _add_input(g: GraphBuilder, feature, network, preprocessing) -> None:
    kind = feature.type.WhichOneof("Type")
    if kind == "imageType":
        image = feature.type.imageType
        channels = 1 if image.colorSpace == image.GRAYSCALE else 3
        g.add_input(feature.name, TensorProto.FLOAT, (1, channels, int(image.height), int(image.width)))
        if preprocessing:
            g.alias(feature.name, _apply_preprocessing(g, feature, preprocessing))
        return
    if kind == "multiArrayType":
        shape = tuple(int(d) for d in feature.type.multiArrayType.shape)
        if network.arrayInputShapeMapping == RANK5_MAPPING:
            shape = (1, shape[0], 1, 1) if len(shape) == 1 else (1, *shape)
        g.add_input(feature.name, TensorProto.FLOAT, shape)
        return
    raise UserError(f"input {feature.name!r} is a {kind!r}; the Linux runner takes image and multiarray inputs")


def _apply_preprocessing(g: GraphBuilder, feature, preprocessing) -> str:
    """Core ML's image preprocessing; returns the tensor the network layers see as `feature.name`."""
    hint = f"{feature.name}/preprocessed"
    image = feature.type.imageType
    kind = preprocessing.WhichOneof("preprocessor")
    if kind == "scaler":
        scaler = preprocessing.scaler
        if image.colorSpace == image.GRAYSCALE:
            biases = [scaler.grayBias]
        elif image.colorSpace == image.BGR:
            biases = [scaler.blueBias, scaler.greenBias, scaler.redBias]
        else:
            biases = [scaler.redBias, scaler.greenBias, scaler.blueBias]
        scaled = g.node("Mul", [feature.name, g.constant(scaler.channelScale, f"{feature.name}/channel_scale")])
        bias = g.constant(np.asarray(biases).reshape(-1, 1, 1), f"{feature.name}/channel_bias")
        return g.node("Add", [scaled, bias], hint=hint)
    if kind == "meanImage":
        channels, height, width = g.shape(feature.name)[1:]
        mean = np.asarray(preprocessing.meanImage.meanImage, dtype=np.float32)
        if mean.size != channels * height * width:
            raise UserError(f"the mean image of {feature.name!r} has {mean.size} values, expected "
                            f"{channels}x{height}x{width}")
        mean = mean.reshape(channels, height, width)
        return g.node("Sub", [feature.name, g.constant(mean, f"{feature.name}/mean_image")], hint=hint)
    raise UserError(f"input {feature.name!r} has preprocessing {kind!r}, which the Linux runner does not support")
