"""The Linux runner: executes an exported Core ML style model (.mlmodel NeuralNetwork or .mlpackage ML
program) by translating it to ONNX."""

from mobilestyle.runner.mil_to_onnx import program_to_onnx
from mobilestyle.runner.model_runner import ModelRunner
from mobilestyle.runner.nn_to_onnx import spec_to_onnx

__all__ = ["ModelRunner", "program_to_onnx", "spec_to_onnx"]
