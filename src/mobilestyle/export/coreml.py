"""Core ML export: `ct.convert`, then spec surgery for an image output with a built-in 1080p upsample.

`neuralnetwork` (.mlmodel): the converted net ends in an NCHW tensor at 853x480; surgery appends one
`upsample` layer (BILINEAR, ALIGN_CORNERS_FALSE, fractional factors 1080/480 and 1920/853, which
samples like `tf.image.resize`; specification version 5, iOS 14) and turns the output into an RGB
image named `stylized`. `resize="resize-bilinear"` appends a `resizeBilinear` layer in
ALIGN_ENDPOINTS_MODE instead, which keeps specification version 4 (iOS 13) at a small cost in quality
(it samples like align_corners=True).

`mlprogram` (.mlpackage, iOS 15+): the same bilinear resize is part of the converted graph and
`ct.convert` declares the image output itself.

Instance-norm nets are first rescaled so that their norms' squares fit fp16 (`fp16_range`); the function
is unchanged. coremltools fuses each norm into one `instance_norm` op (instance-mode `batchnorm` layer),
except a norm whose shift is exactly zero (a random checkpoint's `out_norm`): the converter folds its
`0 - mean * scale` into a multiply that the fusion pattern does not match.
"""

from __future__ import annotations

import contextlib
import io
import warnings
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from mobilestyle import __version__, frame
from mobilestyle.errors import UserError
from mobilestyle.export.fp16_range import NormScale, fit_instance_norms_to_fp16
from mobilestyle.files import atomic_path, ensure_writable_dir
from mobilestyle.networks.checkpoint import Checkpoint
from mobilestyle.networks.counting import count

FORMATS = ("neuralnetwork", "mlprogram")
RESIZE_LAYERS = ("upsample", "resize-bilinear")
UPSAMPLE_LAYER_NAME = "upsample_to_1080p"


@dataclass(frozen=True)
class ExportResult:
    model_path: Path
    contract_path: Path
    name: str
    model_format: str
    minimum_ios: str
    specification_version: int
    file_bytes: int
    parameters: int
    macs: int
    norm_scales: tuple = ()
    """What `fp16_range` did to each instance norm (empty for batch-norm nets)."""


@keras.saving.register_keras_serializable("mobilestyle")
class ToChannelsFirst(keras.layers.Layer):
    """NHWC -> NCHW: Core ML image outputs are (1, 3, H, W)."""

    def call(self, x):
        return tf.transpose(x, [0, 3, 1, 2])


@keras.saving.register_keras_serializable("mobilestyle")
class ResizeBilinear(keras.layers.Layer):
    def __init__(self, height: int, width: int, **kwargs):
        super().__init__(**kwargs)
        self.height, self.width = height, width

    def call(self, x):
        return tf.image.resize(x, (self.height, self.width), method="bilinear")

    def get_config(self):
        return {**super().get_config(), "height": self.height, "width": self.width}


def _quiet_coremltools():
    warnings.filterwarnings("ignore", module="coremltools")
    import coremltools as ct

    return ct


def _export_graph(checkpoint: Checkpoint, with_resize: bool) -> tuple[keras.Model, list[NormScale]]:
    net = checkpoint.build_model(frame.INPUT_HEIGHT, frame.INPUT_WIDTH)
    norm_scales = fit_instance_norms_to_fp16(net)
    x = net.output
    if with_resize:
        x = ResizeBilinear(frame.OUTPUT_HEIGHT, frame.OUTPUT_WIDTH, name="resize_to_1080p")(x)
    x = ToChannelsFirst(name="to_channels_first")(x)
    return keras.Model(net.input, x, name="mobilestyle_export"), norm_scales


def _convert(ct, graph: keras.Model, model_format: str, fp16: bool):
    image_input = ct.ImageType(name=frame.INPUT_NAME, shape=(1, frame.INPUT_HEIGHT, frame.INPUT_WIDTH, 3),
                               color_layout=ct.colorlayout.RGB, scale=1.0)
    kwargs = dict(inputs=[image_input], convert_to=model_format, source="tensorflow")
    if model_format == "mlprogram":
        kwargs.update(
            outputs=[ct.ImageType(color_layout=ct.colorlayout.RGB)],
            minimum_deployment_target=ct.target.iOS15,
            compute_precision=ct.precision.FLOAT16 if fp16 else ct.precision.FLOAT32,
        )
    else:
        kwargs.update(minimum_deployment_target=ct.target.iOS13)
    try:
        return ct.convert(graph, **kwargs)
    except Exception as exc:  # the converter raises many types; the message is what a user can act on
        raise UserError(f"Core ML conversion failed: {type(exc).__name__}: {exc}") from None


def _append_upsample(ct, spec, resize: str) -> None:
    """Spec surgery: resize the network's last tensor to 1920x1080 and make it the image output `stylized`."""
    from coremltools.models.neural_network import NeuralNetworkBuilder

    network_output = spec.description.output[0].name
    builder = NeuralNetworkBuilder(spec=spec)
    if resize == "upsample":
        builder.add_upsample(
            UPSAMPLE_LAYER_NAME,
            scaling_factor_h=float(np.float32(frame.OUTPUT_HEIGHT / frame.INPUT_HEIGHT)),
            scaling_factor_w=float(np.float32(frame.OUTPUT_WIDTH / frame.INPUT_WIDTH)),
            input_name=network_output,
            output_name=frame.OUTPUT_NAME,
            mode="BILINEAR",
            linear_upsample_mode="ALIGN_CORNERS_FALSE",
        )
    else:
        builder.add_resize_bilinear(
            UPSAMPLE_LAYER_NAME, input_name=network_output, output_name=frame.OUTPUT_NAME,
            target_height=frame.OUTPUT_HEIGHT, target_width=frame.OUTPUT_WIDTH, mode="ALIGN_ENDPOINTS_MODE",
        )
    output = spec.description.output[0]
    output.name = frame.OUTPUT_NAME
    output.type.Clear()
    output.type.imageType.colorSpace = ct.proto.FeatureTypes_pb2.ImageFeatureType.RGB
    output.type.imageType.width = frame.OUTPUT_WIDTH
    output.type.imageType.height = frame.OUTPUT_HEIGHT


def _describe(spec, name: str, checkpoint: Checkpoint, parameters: int, macs: int) -> None:
    meta = checkpoint.meta
    random_weights = bool(meta.get("random_weights"))
    description = spec.description
    description.metadata.shortDescription = (
        f"mobilestyle {'UNTRAINED random-weight' if random_weights else 'style-transfer'} model '{name}': "
        f"{frame.INPUT_WIDTH}x{frame.INPUT_HEIGHT} RGB camera frame in, "
        f"{frame.OUTPUT_WIDTH}x{frame.OUTPUT_HEIGHT} stylized RGB frame out."
    )
    description.metadata.author = "mobilestyle"
    description.metadata.license = str(meta.get("licence", "unknown"))
    description.metadata.versionString = __version__
    description.input[0].shortDescription = (
        f"Camera frame, RGB, {frame.INPUT_WIDTH}x{frame.INPUT_HEIGHT} (a 16:9 frame scaled down), pixels 0..255")
    description.output[0].shortDescription = (
        f"Stylized frame, RGB, {frame.OUTPUT_WIDTH}x{frame.OUTPUT_HEIGHT}, upsampled bilinearly inside the model")
    user = description.metadata.userDefined
    user.update({
        "mobilestyle.style": str(meta.get("style", name)),
        "mobilestyle.source_painting": str(meta.get("source_painting", "none" if random_weights else "unknown")),
        "mobilestyle.licence": str(meta.get("licence", "unknown")),
        "mobilestyle.architecture": str(checkpoint.arch),
        "mobilestyle.macs": str(macs),
        "mobilestyle.parameters": str(parameters),
        "mobilestyle.random_weights": "true" if random_weights else "false",
        "mobilestyle.version": __version__,
    })


def default_name(checkpoint: Checkpoint, checkpoint_path: Path | None = None) -> str:
    if checkpoint.meta.get("random_weights"):
        return f"random-weights-seed{checkpoint.meta.get('seed', 0)}"
    if checkpoint.meta.get("style"):
        return str(checkpoint.meta["style"])
    return checkpoint_path.stem if checkpoint_path else "style"


def export_coreml(checkpoint: Checkpoint, out_dir: Path, name: str, model_format: str = "neuralnetwork",
                  fp16: bool = False, resize: str = "upsample") -> ExportResult:
    """Export `checkpoint` to `out_dir/name.mlmodel` (or .mlpackage) and `out_dir/name.contract.json`."""
    from mobilestyle.export.contract import build_contract, write_contract

    if model_format not in FORMATS:
        raise UserError(f"--format must be one of {', '.join(FORMATS)}, got {model_format!r}")
    if resize not in RESIZE_LAYERS:
        raise UserError(f"--resize must be one of {', '.join(RESIZE_LAYERS)}, got {resize!r}")
    if not name or any(ch in name for ch in "/\\") or name.startswith("."):
        raise UserError(f"model name {name!r} is not a usable file name")
    out_dir = ensure_writable_dir(Path(out_dir))
    ct = _quiet_coremltools()
    parameters, macs = count(checkpoint.arch)

    graph, norm_scales = _export_graph(checkpoint, with_resize=model_format == "mlprogram")
    mlmodel = _convert(ct, graph, model_format, fp16)
    spec = mlmodel.get_spec()
    if model_format == "neuralnetwork":
        _append_upsample(ct, spec, resize)
        minimum_ios = "14.0" if resize == "upsample" else "13.0"
    else:
        ct.utils.rename_feature(spec, spec.description.output[0].name, frame.OUTPUT_NAME, rename_inputs=False)
        minimum_ios = "15.0"
    _describe(spec, name, checkpoint, parameters, macs)

    suffix = ".mlpackage" if model_format == "mlprogram" else ".mlmodel"
    model_path = out_dir / f"{name}{suffix}"
    with atomic_path(model_path) as tmp:
        if model_format == "mlprogram":
            weights_dir = mlmodel.weights_dir
            ct.models.MLModel(spec, weights_dir=weights_dir, skip_model_load=True).save(str(tmp))
        else:
            model = ct.models.MLModel(spec, skip_model_load=True)
            if fp16:
                from coremltools.models.neural_network.quantization_utils import quantize_weights

                with contextlib.redirect_stdout(io.StringIO()):
                    model = quantize_weights(model, nbits=16)
                spec = model.get_spec()
            ct.models.utils.save_spec(spec, str(tmp))
    spec_version = spec.specificationVersion

    contract = build_contract(
        name=name, model_file=model_path.name, model_format=model_format, minimum_ios=minimum_ios,
        style={
            "name": str(checkpoint.meta.get("style", name)),
            "source_painting": str(checkpoint.meta.get("source_painting", "unknown")),
            "licence": str(checkpoint.meta.get("licence", "unknown")),
            "random_weights": bool(checkpoint.meta.get("random_weights")),
        },
        architecture=str(checkpoint.arch), macs=macs, parameters=parameters,
    )
    contract_path = out_dir / f"{name}.contract.json"
    write_contract(contract, contract_path)
    return ExportResult(model_path, contract_path, name, model_format, minimum_ios, spec_version,
                        _size(model_path), parameters, macs, tuple(norm_scales))


def _size(path: Path) -> int:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size
