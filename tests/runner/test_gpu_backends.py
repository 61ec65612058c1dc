"""The runner's GPU backends (`cuda`, `tensorrt`: ONNX Runtime execution providers) on a machine without
them: clear one-line errors, never a silent fall-back to the CPU. (`benchmarks/gpu_check.sh` runs them
on an NVIDIA GPU.)"""

import sys

import numpy as np
import onnxruntime
import pytest
from PIL import Image

from mobilestyle.cli import main
from mobilestyle.emulator.models import runner_factory
from mobilestyle.errors import UserError
from mobilestyle.runner import ModelRunner
from mobilestyle.runner.backends import available_backends, resolve_backend
from tests.runner.test_model_runner import save, style_spec

GPU_BUILD = {"CUDAExecutionProvider", "TensorrtExecutionProvider"} <= set(onnxruntime.get_available_providers())
pytestmark = pytest.mark.skipif(GPU_BUILD, reason="ONNX Runtime's GPU build is installed; gpu_check.sh covers it")


@pytest.fixture
def model_path(tmp_path):
    return save(style_spec(), tmp_path / "style.mlmodel")


@pytest.mark.parametrize("backend, provider", [("cuda", "CUDAExecutionProvider"),
                                               ("tensorrt", "TensorrtExecutionProvider")])
def test_a_gpu_backend_without_its_provider_is_a_one_line_error(model_path, backend, provider):
    message = f"backend '{backend}' needs ONNX Runtime's {provider}, which this ONNX Runtime"
    with pytest.raises(UserError, match=message) as raised:
        ModelRunner(model_path, backend=backend)
    assert 'pip install -e ".[gpu]"' in str(raised.value) and "\n" not in str(raised.value)
    assert backend not in available_backends()


@pytest.mark.filterwarnings("ignore:Specified provider")
@pytest.mark.parametrize("backend", ["cuda", "tensorrt"])
def test_a_provider_that_falls_back_to_the_cpu_is_an_error_not_a_cpu_run(monkeypatch, tmp_path, model_path, backend):
    """A GPU build on a machine without a usable GPU lists the providers but runs on the CPU."""
    listed = [*onnxruntime.get_available_providers(), "CUDAExecutionProvider", "TensorrtExecutionProvider"]
    monkeypatch.setattr(onnxruntime, "get_available_providers", lambda: listed)
    monkeypatch.setenv("MOBILESTYLE_TENSORRT_CACHE", str(tmp_path / "engines"))
    with pytest.raises(UserError, match=f"backend '{backend}': ONNX Runtime fell back to CPUExecutionProvider"):
        ModelRunner(model_path, backend=backend)


def test_unknown_backends_list_every_choice():
    with pytest.raises(UserError, match="choose auto, openvino, onnxruntime, cuda or tensorrt"):
        resolve_backend("metal")
    assert resolve_backend("auto") in ("openvino", "onnxruntime")


def test_the_emulator_accepts_the_gpu_backends_and_the_runner_reports_them(model_path):
    make = runner_factory("cuda")
    with pytest.raises(UserError, match="backend 'cuda' needs ONNX Runtime's CUDAExecutionProvider"):
        make(model_path)
    with pytest.raises(UserError, match="--backend must be one of auto, openvino, onnxruntime, cuda, tensorrt"):
        runner_factory("metal")


def test_stylize_with_backend_cuda_without_cuda_is_a_one_line_error(monkeypatch, capsys, tmp_path, model_path):
    photo = tmp_path / "photo.jpg"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (60, 80, 3), dtype=np.uint8)).save(photo)
    out = tmp_path / "out"
    monkeypatch.setattr(sys, "argv", ["mobilestyle", "stylize", str(photo), "--model", str(model_path),
                                      "--backend", "cuda", "--out", str(out)])
    with pytest.raises(SystemExit) as exited:
        main()
    err = capsys.readouterr().err
    assert exited.value.code == 2
    lines = [line for line in err.strip().splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: backend 'cuda' needs ONNX Runtime's CUDAExecutionProvider")
    assert not out.exists()
