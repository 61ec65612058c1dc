"""`ModelRunner`: run an exported Core ML style model on Linux, frame in, frame out."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx

from mobilestyle import frame
from mobilestyle.errors import UserError
from mobilestyle.files import atomic_path
from mobilestyle.runner.backends import Session, resolve_backend
from mobilestyle.runner.frame_io import with_frame_io
from mobilestyle.runner.mil_to_onnx import program_to_onnx
from mobilestyle.runner.model_file import load_model_file, model_metadata, style_model_geometry
from mobilestyle.runner.nn_to_onnx import spec_to_onnx


class ModelRunner:
    """Executes the saved model itself (translated to ONNX) with OpenVINO or ONNX Runtime.

    A .mlmodel holds a NeuralNetwork (translated by `nn_to_onnx`), a .mlpackage an ML program
    (translated by `mil_to_onnx`, in float32 even when the program computes in fp16).

    `run` takes an RGB uint8 H x W x 3 frame of the model's input size and returns the RGB uint8
    frame Core ML would produce (clamped to 0..255, rounded); `run_float` returns the network's
    float32 output before that conversion, for parity checks.
    """

    def __init__(self, path: Path | str, backend: str = "auto", threads: int | None = None) -> None:
        loaded = load_model_file(Path(path))
        spec = loaded.spec
        self.path = loaded.path
        self.input_size, self.output_size = style_model_geometry(spec, loaded.path)
        self.model_metadata = model_metadata(spec)
        self.backend = resolve_backend(backend)
        self.threads = threads
        if spec.WhichOneof("Type") == "mlProgram":
            self.onnx_model = program_to_onnx(spec, loaded.model_dir)
        else:
            self.onnx_model = spec_to_onnx(spec)
        self._check_output_shape()
        self._frame_session = Session(
            with_frame_io(self.onnx_model, frame.INPUT_NAME, frame.OUTPUT_NAME, uint8=True), self.backend, threads)
        self._float_session: Session | None = None

    def run(self, rgb: np.ndarray) -> np.ndarray:
        """RGB uint8 (height, width, 3) in, RGB uint8 (output height, output width, 3) out."""
        rgb = np.asarray(rgb)
        if rgb.dtype != np.uint8:
            raise UserError(f"run() takes a uint8 RGB frame, got dtype {rgb.dtype}")
        return self._frame_session.run(np.ascontiguousarray(self._checked(rgb)))

    def run_float(self, rgb: np.ndarray) -> np.ndarray:
        """The network's float32 (output height, output width, 3) result for RGB pixels 0..255, unclamped."""
        if self._float_session is None:
            wrapped = with_frame_io(self.onnx_model, frame.INPUT_NAME, frame.OUTPUT_NAME, uint8=False)
            self._float_session = Session(wrapped, self.backend, self.threads)
        rgb = self._checked(np.asarray(rgb))
        return self._float_session.run(np.ascontiguousarray(rgb, dtype=np.float32))

    def save_onnx(self, path: Path | str) -> Path:
        """Write the translated float model (input 'image' [1,3,H,W] 0..255, output 'stylized')."""
        path = Path(path)
        with atomic_path(path) as tmp:
            onnx.save_model(self.onnx_model, str(tmp))
        return path

    def _check_output_shape(self) -> None:
        width, height = self.output_size
        output = next(value for value in self.onnx_model.graph.output if value.name == frame.OUTPUT_NAME)
        shape = tuple(dim.dim_value for dim in output.type.tensor_type.shape.dim)
        if shape != (1, 3, height, width):
            raise UserError(f"{self.path}: the network computes {frame.OUTPUT_NAME!r} with shape {shape}, but the "
                            f"model declares a {width}x{height} RGB image (expected (1, 3, {height}, {width}))")

    def _checked(self, rgb: np.ndarray) -> np.ndarray:
        width, height = self.input_size
        if rgb.shape != (height, width, 3):
            raise UserError(f"the model takes RGB frames of {width}x{height} (array shape ({height}, {width}, 3)), "
                            f"got an array of shape {rgb.shape}")
        return rgb
