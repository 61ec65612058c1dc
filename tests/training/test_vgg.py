import h5py
import keras
import numpy as np
import pytest

from mobilestyle.errors import UserError
from mobilestyle.training import vgg
from mobilestyle.training.vgg import CAFFE_BGR_MEAN, HED_BGR_MEAN, load_loss_network
from tests.training.synthetic import VGG_LAYERS, write_vgg_npz


def test_npz_loss_network_shapes_and_layers(tmp_path):
    net = load_loss_network(write_vgg_npz(tmp_path / "vgg.npz"))
    assert net.family == "vgg16"
    assert net.style_layers == ("relu1_2", "relu2_2")
    assert net.content_layer == "relu2_2"
    features = net(np.zeros((2, 32, 48, 3), np.float32))
    assert set(features) == {"relu1_2", "relu2_2"}
    assert tuple(features["relu1_2"].shape) == (2, 32, 48, 64)
    assert tuple(features["relu2_2"].shape) == (2, 16, 24, 128)
    assert all(layer.trainable is False for layer in net.model.layers)


def identity_weights(mean_to_zero: bool = False) -> dict:
    """Center-tap kernels that copy channels 0..2 through block1: relu1_2[..., :3] == relu(BGR - mean)."""
    weights = {}
    for name, (fan_in, fan_out) in VGG_LAYERS.items():
        kernel = np.zeros((3, 3, fan_in, fan_out), np.float32)
        if name.startswith("block1"):
            for channel in range(3):
                kernel[1, 1, channel, channel] = 1.0
        weights[name] = (kernel, np.zeros(fan_out, np.float32))
    return weights


def test_input_is_caffe_bgr_minus_the_mean(tmp_path):
    arrays = {f"{name}.{part}": value for name, pair in identity_weights().items()
              for part, value in zip(("kernel", "bias"), pair)}
    np.savez(tmp_path / "identity.npz", **arrays)
    net = load_loss_network(tmp_path / "identity.npz")
    rgb = np.zeros((1, 4, 4, 3), np.float32)
    rgb[..., 0], rgb[..., 1], rgb[..., 2] = 250.0, 120.0, 110.0  # R, G, B
    out = net(rgb)["relu1_2"].numpy()[0, 2, 2, :3]
    expected = np.maximum(np.array([110.0, 120.0, 250.0]) - np.array(CAFFE_BGR_MEAN), 0)  # B, G, R
    np.testing.assert_allclose(out, expected, rtol=1e-5)


def test_keras3_legacy_and_hed_h5_layouts(tmp_path):
    weights = identity_weights()
    with h5py.File(tmp_path / "keras3.weights.h5", "w") as handle:
        for name, (kernel, bias) in weights.items():
            handle[f"layers/{name}/vars/0"] = kernel
            handle[f"layers/{name}/vars/1"] = bias
    with h5py.File(tmp_path / "legacy_notop.h5", "w") as handle:
        for name, (kernel, bias) in weights.items():
            handle[f"{name}/{name}/kernel:0"] = kernel
            handle[f"{name}/{name}/bias:0"] = bias
    with h5py.File(tmp_path / "hed.weights.h5", "w") as handle:
        for name, (kernel, bias) in weights.items():
            block, conv = int(name[5]), int(name[-1])
            layer = "conv2d" if conv == 1 else f"conv2d_{conv - 1}"
            handle[f"block{block}/layers/{layer}/vars/0"] = kernel
            handle[f"block{block}/layers/{layer}/vars/1"] = bias
        handle["dsn1/vars/0"] = np.zeros((1, 1, 64, 1), np.float32)
    rgb = np.full((1, 4, 4, 3), 255.0, np.float32)
    keras3 = load_loss_network(tmp_path / "keras3.weights.h5")
    hed = load_loss_network(tmp_path / "hed.weights.h5")
    legacy = load_loss_network(tmp_path / "legacy_notop.h5")
    assert keras3.style_layers == hed.style_layers == legacy.style_layers == ("relu1_2", "relu2_2")
    np.testing.assert_allclose(legacy(rgb)["relu1_2"].numpy(), keras3(rgb)["relu1_2"].numpy())
    np.testing.assert_allclose(keras3(rgb)["relu1_2"].numpy()[0, 0, 0, :3], 255.0 - np.array(CAFFE_BGR_MEAN), rtol=1e-5)
    np.testing.assert_allclose(hed(rgb)["relu1_2"].numpy()[0, 0, 0, :3], 255.0 - np.array(HED_BGR_MEAN), rtol=1e-5)


def test_vgg19_npz_with_block3_reaches_relu3_3(tmp_path):
    layers = {**VGG_LAYERS, **{f"block3_conv{i}": (128 if i == 1 else 256, 256) for i in range(1, 5)}}
    net = load_loss_network(write_vgg_npz(tmp_path / "vgg19.npz", layers))
    assert net.family == "vgg19"
    assert net.style_layers == ("relu1_2", "relu2_2", "relu3_3")
    assert tuple(net(np.zeros((1, 32, 32, 3), np.float32))["relu3_3"].shape) == (1, 8, 8, 256)


@pytest.mark.parametrize("problem, message", [
    ("missing", "does not exist"),
    ("folder", "is a folder"),
    ("suffix", "expected a Keras .h5"),
    ("garbage_npz", "not a readable .npz"),
    ("garbage_h5", "not a readable HDF5"),
    ("too_shallow", "stop before relu2_2"),
    ("wrong_shape", "block2_conv1 has kernel"),
    ("not_vgg", "holds no VGG conv layers"),
])
def test_bad_weight_files_are_one_line_user_errors(tmp_path, problem, message):
    path = {"missing": tmp_path / "nope.npz", "folder": tmp_path, "suffix": tmp_path / "vgg.pth",
            "garbage_npz": tmp_path / "bad.npz", "garbage_h5": tmp_path / "bad.h5"}.get(problem, tmp_path / "w.npz")
    if problem == "suffix":
        path.write_bytes(b"torch")
    elif problem.startswith("garbage"):
        path.write_bytes(b"this is not a weights file")
    elif problem == "too_shallow":
        write_vgg_npz(path, {"block1_conv1": (3, 64), "block1_conv2": (64, 64)})
    elif problem == "wrong_shape":
        write_vgg_npz(path, {**VGG_LAYERS, "block2_conv1": (64, 96)})
    elif problem == "not_vgg":
        np.savez(path, **{"conv1.kernel": np.zeros((3, 3, 3, 8)), "conv1.bias": np.zeros(8)})
    with pytest.raises(UserError, match=message) as caught:
        load_loss_network(path)
    assert "\n" not in str(caught.value)


def test_offline_imagenet_download_says_to_pass_vgg_weights(monkeypatch):
    def offline(**kwargs):
        raise Exception("URL fetch failure on https://storage.googleapis.com/...: None -- [Errno -3] "
                        "Temporary failure in name resolution")
    monkeypatch.setattr(keras.applications, "VGG16", offline)
    with pytest.raises(UserError, match="pass --vgg-weights FILE") as caught:
        load_loss_network(None)
    assert "\n" not in str(caught.value)


def test_imagenet_weights_are_taken_from_keras_applications(monkeypatch):
    def fake_vgg16(weights, include_top):
        assert (weights, include_top) == ("imagenet", False)
        inputs = keras.Input((None, None, 3))
        x = inputs
        for name, (fan_in, fan_out) in VGG_LAYERS.items():
            x = keras.layers.Conv2D(fan_out, 3, padding="same", name=name)(x)
        return keras.Model(inputs, x)
    monkeypatch.setattr(keras.applications, "VGG16", fake_vgg16)
    net = vgg.load_loss_network(None)
    assert net.source == "ImageNet VGG16"
    assert net.style_layers == ("relu1_2", "relu2_2")


def test_content_targets_stop_at_relu2_2_and_match_the_full_stack(tmp_path):
    layers = {**VGG_LAYERS, **{f"block3_conv{i}": (128 if i == 1 else 256, 256) for i in range(1, 4)}}
    net = load_loss_network(write_vgg_npz(tmp_path / "vgg16_to_3_3.npz", layers))
    rgb = np.random.default_rng(0).uniform(0, 255, (1, 32, 32, 3)).astype(np.float32)
    assert not any(layer.name.startswith("block3") for layer in net.content_model.layers)
    np.testing.assert_allclose(net.content_targets(rgb)["relu2_2"].numpy(), net(rgb)["relu2_2"].numpy(), rtol=1e-6)
