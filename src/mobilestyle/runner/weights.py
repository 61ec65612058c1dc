"""Reading Core ML `WeightParams` (float32 or float16 storage) as float32 NumPy arrays."""

from __future__ import annotations

import numpy as np

from mobilestyle.errors import UserError


def weight_array(weights, shape: tuple[int, ...] | None, what: str) -> np.ndarray:
    """The values of a `WeightParams` message, reshaped to `shape` when given."""
    if weights.HasField("quantization") or len(weights.rawValue):
        raise UserError(f"{what}: quantized weights are not supported by the Linux runner")
    if len(weights.floatValue):
        values = np.asarray(weights.floatValue, dtype=np.float32)
    elif len(weights.float16Value):
        values = np.frombuffer(weights.float16Value, dtype="<f2").astype(np.float32)
    else:
        values = np.zeros(0, dtype=np.float32)
    if shape is None:
        return values
    expected = int(np.prod(shape))
    if values.size != expected:
        raise UserError(f"{what}: holds {values.size} values, its shape {tuple(shape)} needs {expected}")
    return values.reshape(shape)
