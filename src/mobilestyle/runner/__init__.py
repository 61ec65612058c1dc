"""The Linux runner: executes an exported Core ML style model by translating it to ONNX."""

from mobilestyle.runner.model_runner import ModelRunner
from mobilestyle.runner.nn_to_onnx import spec_to_onnx

__all__ = ["ModelRunner", "spec_to_onnx"]
