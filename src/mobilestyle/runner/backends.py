"""Executing an ONNX model with OpenVINO or ONNX Runtime behind one small interface.

CPU backends: `openvino`, `onnxruntime`. GPU backends (NVIDIA): `cuda` and `tensorrt` are ONNX
Runtime's CUDA and TensorRT execution providers; they need ONNX Runtime's GPU build and its CUDA,
cuDNN (and TensorRT) libraries, which `pip install -e ".[gpu]"` brings (see the README). A GPU
backend never falls back to the CPU silently: a session whose first provider is not the one asked
for is a one-line error. TensorRT's engines are cached in `$MOBILESTYLE_TENSORRT_CACHE` (default
`~/.cache/mobilestyle/tensorrt`), so only the first session of a model waits for the engine build.
`auto` picks a CPU backend only.
"""

from __future__ import annotations

import ctypes
import importlib.util
import os
from pathlib import Path

import numpy as np
import onnx

from mobilestyle.errors import UserError

CPU_BACKENDS = ("openvino", "onnxruntime")
GPU_PROVIDERS = {"cuda": "CUDAExecutionProvider", "tensorrt": "TensorrtExecutionProvider"}
BACKENDS = (*CPU_BACKENDS, *GPU_PROVIDERS)
GPU_INSTALL = "install the GPU extra (pip install -e \".[gpu]\", README: GPUs and clusters)"
TENSORRT_CACHE_ENV = "MOBILESTYLE_TENSORRT_CACHE"
# TensorRT 10 from the tensorrt-cu13-libs wheel, which nothing puts on the loader's path.
TENSORRT_LIBRARIES = ("libnvinfer.so.10", "libnvinfer_plugin.so.10", "libnvonnxparser.so.10")


def available_backends() -> list[str]:
    """The CPU backends installed here (OpenVINO first); GPU backends are checked when asked for."""
    return [name for name in CPU_BACKENDS if importlib.util.find_spec(name) is not None]


def resolve_backend(name: str) -> str:
    """'auto' is OpenVINO when it is installed, else ONNX Runtime; a GPU backend needs its provider."""
    if name in GPU_PROVIDERS:
        check_gpu_provider(name)
        return name
    available = available_backends()
    if name == "auto":
        if not available:
            raise UserError("the Linux runner needs OpenVINO or ONNX Runtime; neither is installed")
        return available[0]
    if name not in BACKENDS:
        raise UserError(f"unknown backend {name!r}; choose auto, {', '.join(BACKENDS[:-1])} or {BACKENDS[-1]}")
    if name not in available:
        raise UserError(f"backend {name!r} is not installed")
    return name


def check_gpu_provider(name: str) -> None:
    """A UserError unless this ONNX Runtime build has the execution provider of GPU backend `name`."""
    if importlib.util.find_spec("onnxruntime") is None:
        raise UserError(f"backend {name!r} runs on ONNX Runtime's GPU build, and ONNX Runtime is not installed; "
                        f"{GPU_INSTALL}")
    import onnxruntime

    providers = onnxruntime.get_available_providers()
    if GPU_PROVIDERS[name] not in providers:
        raise UserError(f"backend {name!r} needs ONNX Runtime's {GPU_PROVIDERS[name]}, which this ONNX Runtime "
                        f"{onnxruntime.__version__} lacks (it has {', '.join(providers)}); {GPU_INSTALL}")


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
            self._run = _onnxruntime_runner(data, self.input_name, threads, backend)

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


def _onnxruntime_runner(data: bytes, input_name: str, threads: int | None, backend: str = "onnxruntime"):
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    if threads is not None:
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
    if backend in GPU_PROVIDERS:
        session = _gpu_session(onnxruntime, data, options, backend)
    else:
        session = onnxruntime.InferenceSession(data, options, providers=["CPUExecutionProvider"])

    def run(array: np.ndarray) -> np.ndarray:
        return session.run(None, {input_name: array})[0]

    return run


def _gpu_session(onnxruntime, data: bytes, options, backend: str):
    """An ONNX Runtime session on the GPU provider of `backend` (nodes it cannot run go to CUDA, then CPU)."""
    check_gpu_provider(backend)
    onnxruntime.preload_dlls(cuda=True, cudnn=True, msvc=False)
    providers = ["CUDAExecutionProvider", "CPUExecutionProvider"]
    if backend == "tensorrt":
        _preload_tensorrt()
        cache = Path(os.environ.get(TENSORRT_CACHE_ENV) or Path.home() / ".cache" / "mobilestyle" / "tensorrt")
        try:
            cache.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UserError(f"backend 'tensorrt': cannot create its engine cache {cache} ({exc.strerror or exc}); "
                            f"set {TENSORRT_CACHE_ENV} to a writable folder") from None
        providers.insert(0, ("TensorrtExecutionProvider", {"trt_engine_cache_enable": True,
                                                           "trt_engine_cache_path": str(cache)}))
    try:
        session = onnxruntime.InferenceSession(data, options, providers=providers)
    except Exception as exc:  # ONNX Runtime's own error types (Fail, RuntimeException, ...)
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UserError(f"backend {backend!r}: ONNX Runtime could not start it: {detail}") from None
    used = session.get_providers()
    if used[0] != GPU_PROVIDERS[backend]:
        needs = "CUDA 13 and cuDNN 9" + (" and TensorRT 10" if backend == "tensorrt" else "")
        raise UserError(f"backend {backend!r}: ONNX Runtime fell back to {used[0]} (no usable NVIDIA GPU, or the "
                        f"{needs} libraries were not found); {GPU_INSTALL}")
    return session


def _preload_tensorrt() -> None:
    """Load TensorRT's libraries from the tensorrt_libs wheel when it is installed (else the loader's path)."""
    spec = importlib.util.find_spec("tensorrt_libs")
    if spec is None or not spec.submodule_search_locations:
        return
    folder = Path(next(iter(spec.submodule_search_locations)))
    for name in TENSORRT_LIBRARIES:
        if (folder / name).is_file():
            ctypes.CDLL(str(folder / name), mode=ctypes.RTLD_GLOBAL)
