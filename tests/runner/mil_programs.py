"""Tiny ML programs written with coremltools' MIL builder, converted as written (no optimization passes),
and a way to run them translated by the Linux runner."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mobilestyle.runner.mil_to_onnx import program_to_onnx
from tests.runner.coreml_specs import run_onnx


def converted_spec(program, ios: int = 15):
    """(spec, model_dir) of `program` converted to an mlprogram exactly as written, weights included."""
    import coremltools as ct

    model = ct.convert(program, convert_to="mlprogram", pass_pipeline=ct.PassPipeline.EMPTY,
                       skip_model_load=True, compute_precision=ct.precision.FLOAT32,
                       minimum_deployment_target=getattr(ct.target, f"iOS{ios}"))
    return model.get_spec(), Path(model.weights_dir).parent


def run_program(program, ios: int = 15, **feeds: np.ndarray) -> dict[str, np.ndarray]:
    spec, model_dir = converted_spec(program, ios)
    return run_onnx(program_to_onnx(spec, model_dir), **feeds)


def run_single(build, x: np.ndarray, ios: int = 15) -> np.ndarray:
    """Run the program `y = build(x)` (iOS `ios` opset) for a float32 input `x` of x's shape."""
    import coremltools as ct
    from coremltools.converters.mil import Builder as mb

    @mb.program(input_specs=[mb.TensorSpec(shape=x.shape)], opset_version=getattr(ct.target, f"iOS{ios}"))
    def program(x):
        return mb.identity(x=build(x), name="y")

    return run_program(program, ios, x=x)["y"]
