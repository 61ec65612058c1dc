"""A read-only view of one ML program operation for the op handlers in `mil_ops_*`.

MIL ops take named arguments, each bound either to a variable (a function input or an earlier
op's output) or to a constant: the output of a `const` op or a value written inline. Handlers read
compile-time parameters (strides, pads, modes) with `MilOperation.constant` and tensor operands with
`MilOperation.tensor`, which turns a constant operand into an ONNX initializer (once per constant).
Floating-point constants become float32 (fp16 weights are upcast); integers become int64.
"""

from __future__ import annotations

import numpy as np

from mobilestyle.errors import UserError
from mobilestyle.runner.mil_weights import BlobStorage, tensor_shape, value_array
from mobilestyle.runner.onnx_builder import GraphBuilder

_REQUIRED = object()


class ProgramConstants:
    """The compile-time values of a program, by name, and the initializers made for them."""

    def __init__(self, blobs: BlobStorage) -> None:
        self.blobs = blobs
        self.values: dict[str, np.ndarray | str] = {}
        self._initializers: dict[str, str] = {}

    def add_const_op(self, op) -> None:
        name = op.outputs[0].name
        if "val" not in op.attributes:
            raise UserError(f"const operation {name!r} has no value")
        self.values[name] = value_array(op.attributes["val"], self.blobs, f"const {name!r}")

    def initializer(self, g: GraphBuilder, name: str, value: np.ndarray | str, what: str) -> str:
        if name not in self._initializers:
            self._initializers[name] = g.constant(onnx_array(value, what), name, dtype=None, exact_name=True)
        return self._initializers[name]


def onnx_array(value: np.ndarray | str, what: str) -> np.ndarray:
    """A constant as the runner computes with it: float32 for any float, int64 for any integer."""
    if isinstance(value, str) or value.dtype == bool:
        raise UserError(f"{what} is a {'string' if isinstance(value, str) else 'bool'} constant, which cannot "
                        f"be used as a tensor operand")
    if np.issubdtype(value.dtype, np.floating):
        return value.astype(np.float32)
    return value.astype(np.int64)


class MilOperation:
    def __init__(self, op, constants: ProgramConstants) -> None:
        self.proto = op
        self.type = op.type
        self._constants = constants
        if len(op.outputs) != 1:
            raise UserError(f"{self.type} operation has {len(op.outputs)} outputs; the Linux runner supports "
                            f"single-output operations")
        self.output = op.outputs[0].name
        self.label = f"{self.type} operation {self.output!r}"

    @property
    def output_shape(self) -> tuple[int, ...]:
        output_type = self.proto.outputs[0].type
        if output_type.WhichOneof("type") != "tensorType":
            raise UserError(f"{self.label} does not produce a tensor")
        return tensor_shape(output_type.tensorType, self.label)

    def has(self, key: str) -> bool:
        return key in self.proto.inputs and len(self.proto.inputs[key].arguments) > 0

    def constant(self, key: str, default=_REQUIRED):
        """The compile-time value of argument `key` (`default` when it is absent)."""
        if not self.has(key):
            if default is _REQUIRED:
                raise UserError(f"{self.label} lacks its required argument {key!r}")
            return default
        binding = self._binding(key)
        if binding.WhichOneof("binding") == "value":
            return value_array(binding.value, self._constants.blobs, f"{self.label} argument {key!r}")
        if binding.name not in self._constants.values:
            raise UserError(f"{self.label}: argument {key!r} must be a constant, but it is computed at run time "
                            f"({binding.name!r}); the Linux runner does not support that")
        return self._constants.values[binding.name]

    def ints(self, key: str, default=_REQUIRED) -> list[int]:
        return [int(v) for v in np.ravel(self.constant(key, default))]

    def scalar(self, key: str, default=_REQUIRED):
        value = self.constant(key, default)
        if isinstance(value, str):
            return value
        array = np.asarray(value)
        if array.size != 1:
            raise UserError(f"{self.label}: argument {key!r} must be a single value, got shape {array.shape}")
        return array.reshape(()).item()

    def tensor(self, g: GraphBuilder, key: str) -> str:
        """The ONNX tensor holding argument `key` (a variable, or a constant made an initializer)."""
        if not self.has(key):
            raise UserError(f"{self.label} lacks its required argument {key!r}")
        binding = self._binding(key)
        what = f"{self.label} argument {key!r}"
        if binding.WhichOneof("binding") == "value":
            value = value_array(binding.value, self._constants.blobs, what)
            return g.constant(onnx_array(value, what), f"{self.output}/{key}", dtype=None)
        if binding.name in self._constants.values:
            return self._constants.initializer(g, binding.name, self._constants.values[binding.name], what)
        return binding.name

    def _binding(self, key: str):
        arguments = self.proto.inputs[key].arguments
        if len(arguments) != 1:
            raise UserError(f"{self.label}: argument {key!r} binds {len(arguments)} values; expected one")
        return arguments[0]
