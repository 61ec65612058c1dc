"""Tiny hand-built Core ML NeuralNetwork specs for per-layer tests, and a way to run them translated."""

from __future__ import annotations

import numpy as np
import onnxruntime
from coremltools.proto import FeatureTypes_pb2, Model_pb2

from mobilestyle.runner import spec_to_onnx

EXACT_ARRAY_MAPPING, RANK4_IMAGE_MAPPING = 1, 1


def network_spec(inputs: dict[str, tuple[int, ...]], outputs: list[str], version: int = 5):
    """A spec with float multiarray inputs of the given shapes (exact rank) and untyped-shape outputs."""
    spec = Model_pb2.Model()
    spec.specificationVersion = version
    for name, shape in inputs.items():
        feature = spec.description.input.add()
        feature.name = name
        feature.type.multiArrayType.dataType = FeatureTypes_pb2.ArrayFeatureType.FLOAT32
        feature.type.multiArrayType.shape.extend(shape)
    for name in outputs:
        feature = spec.description.output.add()
        feature.name = name
        feature.type.multiArrayType.dataType = FeatureTypes_pb2.ArrayFeatureType.FLOAT32
    spec.neuralNetwork.arrayInputShapeMapping = EXACT_ARRAY_MAPPING
    spec.neuralNetwork.imageInputShapeMapping = RANK4_IMAGE_MAPPING
    return spec


def add_layer(spec, kind: str, inputs: list[str], output: str, name: str | None = None):
    """Append a layer of `kind` and return its parameter message to fill in."""
    layer = spec.neuralNetwork.layers.add()
    layer.name = name or f"{kind}_{len(spec.neuralNetwork.layers)}"
    layer.input.extend(inputs)
    layer.output.append(output)
    params = getattr(layer, kind)
    params.SetInParent()
    return params


def single_layer_spec(kind: str, shape: tuple[int, ...], extra_inputs: dict[str, tuple[int, ...]] | None = None):
    """A spec `x -> kind -> y` (plus extra inputs); returns (spec, layer parameters)."""
    inputs = {"x": shape, **(extra_inputs or {})}
    spec = network_spec(inputs, ["y"])
    return spec, add_layer(spec, kind, list(inputs), "y")


def run_spec(spec, **feeds: np.ndarray) -> dict[str, np.ndarray]:
    return run_onnx(spec_to_onnx(spec), **feeds)


def run_onnx(model, **feeds: np.ndarray) -> dict[str, np.ndarray]:
    """Run a translated ONNX model on one thread of ONNX Runtime; outputs by name."""
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    session = onnxruntime.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    names = [output.name for output in session.get_outputs()]
    results = session.run(None, {name: value.astype(np.float32) for name, value in feeds.items()})
    return dict(zip(names, results))


def bilinear_reference(x: np.ndarray, rows: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """Bilinear sampling of an [N, C, H, W] array at source coordinates (float64), NumPy only."""
    def along(data, grid, axis):
        size = data.shape[axis]
        lower = np.floor(grid).astype(int)
        upper = np.minimum(lower + 1, size - 1)
        weight = grid - lower
        shape = [1] * data.ndim
        shape[axis] = -1
        weight = weight.reshape(shape)
        return np.take(data, lower, axis) * (1 - weight) + np.take(data, upper, axis) * weight
    return along(along(x.astype(np.float64), rows, 2), columns, 3)
