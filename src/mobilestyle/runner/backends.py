"""Executing an ONNX model with OpenVINO or ONNX Runtime behind one small interface."""

from __future__ import annotations

import importlib.util

import numpy as np
import onnx

from mobilestyle.errors import UserError

BACKENDS = ("openvino", "onnxruntime")


def available_backends() -> list[str]:
    return [name for name in BACKENDS if importlib.util.find_spec(name) is not None]


def resolve_backend(name: str) -> str:
    """'auto' is OpenVINO when it is installed, else ONNX Runtime."""
    available = available_backends()
    if name == "auto":
        if not available:
            raise UserError("the Linux runner needs OpenVINO or ONNX Runtime; neither is installed")
        return available[0]
    if name not in BACKENDS:
        raise UserError(f"unknown backend {name!r}; choose auto, {' or '.join(BACKENDS)}")
    if name not in available:
        raise UserError(f"backend {name!r} is not installed")
    return name


class Session:
    """One compiled single-input, single-output model."""

    def __init__(self, model: onnx.ModelProto, backend: str, threads: int | None) -> None:
        if threads is not None and threads < 1:
            raise UserError(f"threads must be at least 1, got {threads}")
        self.backend = backend
        self.input_name = model.graph.input[0].name
        data = model.SerializeToString()
        if backend == "openvino":
            self._run = _openvino_runner(data, threads)
        else:
            self._run = _onnxruntime_runner(data, self.input_name, threads)

    def run(self, array: np.ndarray) -> np.ndarray:
        return self._run(array)


def _openvino_runner(data: bytes, threads: int | None):
    import openvino

    core = openvino.Core()
    config = {"INFERENCE_PRECISION_HINT": "f32", "PERFORMANCE_HINT": "LATENCY"}
    if threads is not None:
        config["INFERENCE_NUM_THREADS"] = threads
    compiled = core.compile_model(core.read_model(data), "CPU", config)
    request = compiled.create_infer_request()

    def run(array: np.ndarray) -> np.ndarray:
        request.infer([array])
        return request.get_output_tensor(0).data.copy()

    return run


def _onnxruntime_runner(data: bytes, input_name: str, threads: int | None):
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    if threads is not None:
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
    session = onnxruntime.InferenceSession(data, options, providers=["CPUExecutionProvider"])

    def run(array: np.ndarray) -> np.ndarray:
        return session.run(None, {input_name: array})[0]

    return run
