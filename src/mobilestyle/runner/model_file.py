"""Reading an exported Core ML file (.mlmodel or .mlpackage) and checking that it is a style model."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from google.protobuf.message import DecodeError

from mobilestyle import frame
from mobilestyle.errors import UserError


@dataclass(frozen=True)
class LoadedModel:
    """`model_dir`: for a package, the folder of its root model (an ML program's "@model_path")."""

    spec: object
    path: Path
    model_dir: Path | None


def load_model_file(path: Path) -> LoadedModel:
    """Parse a .mlmodel file or the root model of a .mlpackage folder."""
    from coremltools.proto import Model_pb2

    path = Path(path)
    if not path.exists():
        raise UserError(f"model {path} does not exist")
    model_dir = None
    spec_file = path
    if path.is_dir():
        if not (path / "Manifest.json").is_file():
            raise UserError(f"{path} is a folder but not a Core ML package (no Manifest.json)")
        spec_file = _package_root_model(path)
        model_dir = spec_file.parent
    try:
        data = spec_file.read_bytes()
    except OSError as exc:
        raise UserError(f"cannot read model {path}: {exc.strerror or exc}") from None
    spec = Model_pb2.Model()
    try:
        spec.ParseFromString(data)
    except (DecodeError, ValueError, RuntimeError):
        raise UserError(f"{path} is not a Core ML model (it cannot be parsed; corrupt or another format)") from None
    if spec.specificationVersion < 1 or spec.WhichOneof("Type") is None or not len(spec.description.input):
        raise UserError(f"{path} is not a Core ML model (no model type, version or inputs)")
    return LoadedModel(spec, path, model_dir)


def _package_root_model(package: Path) -> Path:
    from coremltools.models.utils import _ModelPackage

    if _ModelPackage is None:
        raise UserError("coremltools cannot read .mlpackage folders on this machine (libmodelpackage is missing)")
    try:
        return Path(_ModelPackage(str(package)).getRootModel().path())
    except Exception as exc:  # the C++ package reader raises plain RuntimeError/Exception subclasses
        raise UserError(f"{package} is not a readable Core ML package ({exc})") from None


def model_metadata(spec) -> dict:
    metadata = spec.description.metadata
    return {
        "shortDescription": metadata.shortDescription,
        "author": metadata.author,
        "license": metadata.license,
        "versionString": metadata.versionString,
        "userDefined": dict(metadata.userDefined),
    }


def style_model_geometry(spec, path: Path) -> tuple[tuple[int, int], tuple[int, int]]:
    """((input width, height), (output width, height)) of a mobilestyle model; UserError otherwise."""
    inputs, outputs = list(spec.description.input), list(spec.description.output)
    expected = (f"an RGB image input {frame.INPUT_NAME!r} and an RGB image output {frame.OUTPUT_NAME!r}")
    input_names, output_names = [f.name for f in inputs], [f.name for f in outputs]
    if input_names != [frame.INPUT_NAME] or output_names != [frame.OUTPUT_NAME]:
        raise UserError(f"{path} is not a mobilestyle style model: it has inputs {input_names} and outputs "
                        f"{output_names}, expected {expected}")
    sizes = []
    for feature in (inputs[0], outputs[0]):
        kind = feature.type.WhichOneof("Type")
        if kind != "imageType" or feature.type.imageType.colorSpace != feature.type.imageType.RGB:
            found = "a non-RGB image" if kind == "imageType" else (kind or "an untyped feature")
            raise UserError(f"{path} is not a mobilestyle style model: {feature.name!r} is {found}, "
                            f"expected {expected}")
        sizes.append((int(feature.type.imageType.width), int(feature.type.imageType.height)))
    return sizes[0], sizes[1]
