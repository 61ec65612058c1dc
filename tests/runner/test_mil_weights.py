"""Reading ML program constants: blob weight files written by coremltools' own writer, inline values,
and one-line errors for weight files that are missing, corrupt or compressed."""

import numpy as np
import pytest
from coremltools.proto import MIL_pb2

from mobilestyle.errors import UserError
from mobilestyle.runner.mil_weights import FLOAT16, FLOAT32, STRING, BlobStorage, value_array

WEIGHT_FILE = "@model_path/weights/weight.bin"


@pytest.fixture
def blob_writer(tmp_path):
    """A function writing one blob with coremltools' BlobStorageWriter; returns (storage, offset)."""
    storage_module = pytest.importorskip("coremltools.libmilstoragepython",
                                         reason="coremltools' blob storage writer is not built for this platform")
    path = tmp_path / "weights" / "weight.bin"
    path.parent.mkdir()

    def write(kind: str, values: np.ndarray) -> tuple[BlobStorage, int]:
        writer = storage_module._BlobStorageWriter(str(path))
        offset = getattr(writer, f"write_{kind}_data")(values)
        del writer
        return BlobStorage(tmp_path), offset

    return write


@pytest.mark.parametrize("kind, dtype", [("float", np.float32), ("fp16", np.float16), ("int8", np.int8),
                                         ("uint8", np.uint8), ("int32", np.int32)])
def test_blobs_written_by_coremltools_read_back(blob_writer, kind, dtype):
    values = (np.arange(24) * 5 - 60 * (dtype != np.uint8)).astype(dtype).reshape(2, 3, 4)
    storage, offset = blob_writer(kind, values.ravel().view(np.uint16) if kind == "fp16" else values.ravel())
    np.testing.assert_array_equal(storage.read(WEIGHT_FILE, offset, np.dtype(dtype).newbyteorder("<"), (2, 3, 4),
                                               "w"), values)


def test_blob_of_another_type_or_size_is_a_user_error(blob_writer):
    storage, offset = blob_writer("float", np.zeros(6, np.float32))
    with pytest.raises(UserError, match="the blob holds 24 bytes of float32, the program expects 6 values of float16"):
        storage.read(WEIGHT_FILE, offset, np.dtype("<f2"), (6,), "w")
    with pytest.raises(UserError, match="expects 8 values"):
        storage.read(WEIGHT_FILE, offset, np.dtype("<f4"), (8,), "w")


def test_compressed_blobs_are_user_errors(blob_writer):
    storage, offset = blob_writer("uint4", np.arange(8, dtype=np.uint8))
    with pytest.raises(UserError, match=r"blob data type 11 \(compressed or quantized weights\)"):
        storage.read(WEIGHT_FILE, offset, np.dtype("u1"), (8,), "w")


def test_corrupt_or_missing_weight_files_are_user_errors(blob_writer, tmp_path):
    storage, offset = blob_writer("float", np.ones(16, np.float32))
    with pytest.raises(UserError, match="no blob metadata at offset 72"):
        storage.read(WEIGHT_FILE, offset + 8, np.dtype("<f4"), (16,), "w")
    path = tmp_path / "weights" / "weight.bin"
    path.write_bytes(path.read_bytes()[:-8])
    with pytest.raises(UserError, match="runs past the end"):
        BlobStorage(tmp_path).read(WEIGHT_FILE, offset, np.dtype("<f4"), (16,), "w")
    path.unlink()
    with pytest.raises(UserError, match="cannot read the weight file"):
        BlobStorage(tmp_path).read(WEIGHT_FILE, offset, np.dtype("<f4"), (16,), "w")
    with pytest.raises(UserError, match="cannot be found"):
        BlobStorage(None).read(WEIGHT_FILE, offset, np.dtype("<f4"), (16,), "w")


def _tensor_value(data_type: int, shape: tuple[int, ...]) -> MIL_pb2.Value:
    value = MIL_pb2.Value()
    value.type.tensorType.dataType = data_type
    value.type.tensorType.rank = len(shape)
    for size in shape:
        value.type.tensorType.dimensions.add().constant.size = size
    return value


def test_immediate_values():
    floats = _tensor_value(FLOAT32, (2, 2))
    floats.immediateValue.tensor.floats.values.extend([1.0, 2.0, 3.0, 4.5])
    np.testing.assert_array_equal(value_array(floats, BlobStorage(None), "v"), [[1, 2], [3, 4.5]])
    halves = _tensor_value(FLOAT16, (3,))
    halves.immediateValue.tensor.bytes.values = np.array([0.5, -2, 255], "<f2").tobytes()
    result = value_array(halves, BlobStorage(None), "v")
    assert result.dtype == np.float16 and result.tolist() == [0.5, -2, 255]
    scalar = _tensor_value(23, ())
    scalar.immediateValue.tensor.ints.values.append(7)
    assert value_array(scalar, BlobStorage(None), "v").shape == ()
    mode = _tensor_value(STRING, ())
    mode.immediateValue.tensor.strings.values.append("reflect")
    assert value_array(mode, BlobStorage(None), "v") == "reflect"
    wrong_count = _tensor_value(FLOAT32, (3,))
    wrong_count.immediateValue.tensor.floats.values.extend([1.0, 2.0])
    with pytest.raises(UserError, match=r"holds 2 values, its shape \(3,\) needs 3"):
        value_array(wrong_count, BlobStorage(None), "v")
    bfloat = _tensor_value(13, (1,))
    with pytest.raises(UserError, match="data type bf16"):
        value_array(bfloat, BlobStorage(None), "v")
