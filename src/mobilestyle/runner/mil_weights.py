"""Constant values of a Core ML ML program (MIL.proto `Value`s) as NumPy arrays.

A value is either immediate (stored in the program proto) or a `BlobFileValue`: a file name
("@model_path/weights/weight.bin", relative to the folder holding model.mlmodel) and the byte offset
of a blob's metadata in that file. The blob storage format (coremltools' MILBlob StorageFormat.hpp,
little-endian) is:
- a 64-byte header: uint32 blob count, uint32 version (2), reserved;
- per blob, a 64-byte metadata record: uint32 sentinel 0xDEADBEEF, uint32 data type, uint64 size in
  bytes, uint64 offset of the data in the file, reserved; the data lies at that offset.
Sub-byte and 8-bit float types (compressed weights) are rejected with a UserError.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mobilestyle.errors import UserError

MODEL_PATH_PREFIX = "@model_path/"
BLOB_SENTINEL = 0xDEADBEEF
STORAGE_VERSION = 2
HEADER_BYTES = METADATA_BYTES = 64

BLOB_DTYPES = {1: np.dtype("<f2"), 2: np.dtype("<f4"), 3: np.dtype("u1"), 4: np.dtype("i1"), 6: np.dtype("<i2"),
               7: np.dtype("<u2"), 14: np.dtype("<i4"), 15: np.dtype("<u4")}

BOOL, STRING, FLOAT16, FLOAT32, FLOAT64 = 1, 2, 10, 11, 12
MIL_DTYPES = {BOOL: np.dtype(bool), FLOAT16: np.dtype("<f2"), FLOAT32: np.dtype("<f4"), FLOAT64: np.dtype("<f8"),
              21: np.dtype("i1"), 22: np.dtype("<i2"), 23: np.dtype("<i4"), 24: np.dtype("<i8"),
              31: np.dtype("u1"), 32: np.dtype("<u2"), 33: np.dtype("<u4"), 34: np.dtype("<u8")}
MIL_DTYPE_NAMES = {0: "unused", 1: "bool", 2: "string", 10: "fp16", 11: "fp32", 12: "fp64", 13: "bf16", 21: "int8",
                   22: "int16", 23: "int32", 24: "int64", 31: "uint8", 32: "uint16", 33: "uint32", 34: "uint64"}


def tensor_shape(tensor_type, what: str) -> tuple[int, ...]:
    """The static shape of a MIL `TensorType`; UserError for unknown dimensions."""
    if any(dim.WhichOneof("dimension") != "constant" for dim in tensor_type.dimensions):
        raise UserError(f"{what} has a dimension of unknown size; the Linux runner needs static shapes")
    return tuple(int(dim.constant.size) for dim in tensor_type.dimensions)


class BlobStorage:
    """Reads blobs out of the weight files of one ML program, each file read once."""

    def __init__(self, model_dir: Path | None) -> None:
        self.model_dir = model_dir
        self._files: dict[str, bytes] = {}

    def read(self, file_name: str, offset: int, dtype: np.dtype, shape: tuple[int, ...], what: str) -> np.ndarray:
        data = self._file(file_name, what)
        if offset + METADATA_BYTES > len(data):
            raise UserError(f"{what}: offset {offset} lies outside the weight file {file_name!r}")
        sentinel, blob_type = np.frombuffer(data, "<u4", 2, offset)
        size, data_offset = (int(v) for v in np.frombuffer(data, "<u8", 2, offset + 8))
        if sentinel != BLOB_SENTINEL:
            raise UserError(f"{what}: no blob metadata at offset {offset} of {file_name!r} (corrupt weight file)")
        blob_dtype = BLOB_DTYPES.get(int(blob_type))
        if blob_dtype is None:
            raise UserError(f"{what}: blob data type {int(blob_type)} (compressed or quantized weights) is not "
                            f"supported by the Linux runner")
        count = int(np.prod(shape, dtype=np.int64))
        if blob_dtype != dtype or size != count * dtype.itemsize:
            raise UserError(f"{what}: the blob holds {size} bytes of {blob_dtype}, the program expects {count} "
                            f"values of {dtype}")
        if data_offset + size > len(data):
            raise UserError(f"{what}: the blob runs past the end of {file_name!r} (truncated weight file)")
        return np.frombuffer(data, dtype, count, data_offset).reshape(shape)

    def _file(self, file_name: str, what: str) -> bytes:
        if file_name not in self._files:
            if self.model_dir is None or not file_name.startswith(MODEL_PATH_PREFIX):
                raise UserError(f"{what}: weights in {file_name!r} cannot be found (an ML program must be "
                                f"saved as a .mlpackage with its weights)")
            path = self.model_dir / file_name[len(MODEL_PATH_PREFIX):]
            try:
                data = path.read_bytes()
            except OSError as exc:
                raise UserError(f"{what}: cannot read the weight file {path}: {exc.strerror or exc}") from None
            if len(data) < HEADER_BYTES or np.frombuffer(data, "<u4", 2)[1] != STORAGE_VERSION:
                raise UserError(f"{path} is not a version-{STORAGE_VERSION} Core ML weight file")
            self._files[file_name] = data
        return self._files[file_name]


def value_array(value, blobs: BlobStorage, what: str) -> np.ndarray | str:
    """A MIL `Value` holding a tensor: a NumPy array of its declared type and shape (a str for strings)."""
    if value.type.WhichOneof("type") != "tensorType":
        raise UserError(f"{what} is a {value.type.WhichOneof('type')}, the Linux runner reads only tensor values")
    tensor_type = value.type.tensorType
    shape = tensor_shape(tensor_type, what)
    data_type = int(tensor_type.dataType)
    kind = value.WhichOneof("value")
    if data_type == STRING:
        strings = list(value.immediateValue.tensor.strings.values)
        if kind != "immediateValue" or len(strings) != 1:
            raise UserError(f"{what}: only single immediate strings are supported")
        return strings[0]
    dtype = MIL_DTYPES.get(data_type)
    if dtype is None:
        raise UserError(f"{what} has data type {MIL_DTYPE_NAMES.get(data_type, data_type)}, which the Linux runner "
                        f"does not support")
    if kind == "blobFileValue":
        return blobs.read(value.blobFileValue.fileName, int(value.blobFileValue.offset), dtype, shape, what)
    if kind != "immediateValue" or value.immediateValue.WhichOneof("value") != "tensor":
        raise UserError(f"{what} holds no tensor value")
    tensor = value.immediateValue.tensor
    field = tensor.WhichOneof("value")
    if field == "bytes":
        values = np.frombuffer(tensor.bytes.values, dtype)
    elif field is None:
        values = np.zeros(0, dtype)
    else:
        values = np.asarray(getattr(tensor, field).values).astype(dtype)
    count = int(np.prod(shape, dtype=np.int64))
    if values.size != count:
        raise UserError(f"{what}: holds {values.size} values, its shape {shape} needs {count}")
    return values.reshape(shape)
