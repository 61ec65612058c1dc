import json
import math
from pathlib import Path

import numpy as np
import pytest

from mobilestyle.errors import UserError
from mobilestyle.images import load_rgb
from mobilestyle.networks.checkpoint import load_checkpoint, random_checkpoint, save_checkpoint
from mobilestyle.networks.counting import layer_costs
from mobilestyle.networks.transformer_net import build_transformer_net
from mobilestyle.training.teachers import (
    LENGSTROM_ARCH, PYTORCH_EXAMPLES_ARCH, keep_blocks, load_ml5_teacher, load_pytorch_teacher,
    load_teacher, pytorch_state_to_checkpoint,
)

from .numpy_reference import ml5_forward, pytorch_examples_forward, read_ml5_variables

ML5_SHAPES = [(9, 9, 3, 32), (32,), (32,), (3, 3, 32, 64), (64,), (64,), (3, 3, 64, 128), (128,), (128,),
              *[shape for _ in range(10) for shape in ((3, 3, 128, 128), (128,), (128,))],
              (3, 3, 64, 128), (64,), (64,), (3, 3, 32, 64), (32,), (32,), (9, 9, 32, 3), (3,), (3,)]


def write_ml5_folder(folder: Path, seed: int = 0) -> Path:
    """A synthetic teacher in the ml5 format: random weights, manifest.json + raw float32 files."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    manifest = {}
    for index, shape in enumerate(ML5_SHAPES):
        name = "Variable" if index == 0 else f"Variable_{index}"
        if len(shape) == 4:
            values = rng.normal(0, 1 / math.sqrt(shape[0] * shape[1] * shape[2]), shape)
        elif index % 3 == 1:  # shift
            values = rng.normal(0, 0.2, shape)
        else:  # scale
            values = rng.uniform(0.5, 1.5, shape)
        values.astype("<f4").tofile(folder / name)
        manifest[name] = {"filename": name, "shape": list(shape)}
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder


def pytorch_examples_state(seed: int = 0) -> dict[str, np.ndarray]:
    """A random pytorch/examples TransformerNet state dict (NumPy, OIHW), legacy IN statistics included."""
    rng = np.random.default_rng(seed)
    state = {}
    convs = [("conv1", 3, 32, 9, "in1"), ("conv2", 32, 64, 3, "in2"), ("conv3", 64, 128, 3, "in3"),
             *[(f"res{b}.conv{c}", 128, 128, 3, f"res{b}.in{c}") for b in range(1, 6) for c in (1, 2)],
             ("deconv1", 128, 64, 3, "in4"), ("deconv2", 64, 32, 3, "in5"), ("deconv3", 32, 3, 9, None)]
    for name, cin, cout, k, norm in convs:
        state[f"{name}.conv2d.weight"] = rng.normal(0, 1 / math.sqrt(cin * k * k), (cout, cin, k, k)).astype(np.float32)
        state[f"{name}.conv2d.bias"] = rng.normal(0, 0.5, cout).astype(np.float32)
        if norm:
            state[f"{norm}.weight"] = rng.uniform(0.5, 1.5, cout).astype(np.float32)
            state[f"{norm}.bias"] = rng.normal(0, 0.2, cout).astype(np.float32)
            state[f"{norm}.running_mean"] = np.zeros(cout, np.float32)
            state[f"{norm}.running_var"] = np.ones(cout, np.float32)
    state["deconv3.conv2d.bias"] += 127.5
    state["deconv3.conv2d.weight"] *= 60
    return state


def keras_forward(checkpoint, image: np.ndarray) -> np.ndarray:
    model = checkpoint.build_model()
    return model(image[None].astype(np.float32), training=False)[0].numpy()


def test_lengstrom_arch_has_the_teachers_parameter_count():
    costs = layer_costs(build_transformer_net(LENGSTROM_ARCH, 64, 64))
    assert sum(cost.parameters for cost in costs) == 1_677_638


def test_synthetic_ml5_teacher_matches_numpy_reference(tmp_path):
    folder = write_ml5_folder(tmp_path / "synthetic")
    checkpoint = load_ml5_teacher(folder)
    assert checkpoint.arch == LENGSTROM_ARCH
    image = np.random.default_rng(1).uniform(0, 255, (36, 44, 3))
    expected = ml5_forward(read_ml5_variables(folder), image)
    got = keras_forward(checkpoint, image)
    assert np.abs(got - expected).max() < 0.05
    assert expected.std() > 5  # the synthetic net is not a constant image


def test_ml5_teacher_round_trips_through_a_checkpoint(tmp_path):
    checkpoint = load_teacher(write_ml5_folder(tmp_path / "t", seed=3))
    reloaded = load_checkpoint(save_checkpoint(checkpoint, tmp_path / "teacher.npz"))
    assert reloaded.arch == LENGSTROM_ARCH
    assert set(reloaded.weights) == set(checkpoint.weights)
    for key, value in checkpoint.weights.items():
        np.testing.assert_array_equal(reloaded.weights[key], value)


@pytest.mark.parametrize("style", ["la_muse", "wave"])
def test_real_ml5_teachers_match_numpy_reference_on_photos(shared_data, style):
    folder = shared_data / "teachers" / "ml5" / style
    photos = sorted((shared_data / "content" / "bsds500" / "test").glob("*.jpg"))[:2]
    checkpoint = load_ml5_teacher(folder)
    variables = read_ml5_variables(folder)
    model = checkpoint.build_model()
    for photo in photos:
        image = load_rgb(photo)[:160, :240].astype(np.float64)
        expected = ml5_forward(variables, image)
        got = model(image[None].astype(np.float32), training=False)[0].numpy()
        assert np.abs(got - expected).max() < 0.5, photo.name
        assert expected.std() > 20


def test_pytorch_examples_state_matches_numpy_reference():
    state = pytorch_examples_state()
    checkpoint = pytorch_state_to_checkpoint({k: v for k, v in state.items() if "running" not in k})
    assert checkpoint.arch == PYTORCH_EXAMPLES_ARCH
    assert not any(key.endswith("_norm/bias") for key in checkpoint.weights)
    image = np.random.default_rng(2).uniform(0, 255, (32, 40, 3))
    expected = pytorch_examples_forward(state, image)
    got = keras_forward(checkpoint, image)
    assert 0 < expected.mean() < 255 and expected.std() > 5
    assert np.abs(got - expected).max() < 0.05


def test_pytorch_pth_file_round_trip(tmp_path):
    torch = pytest.importorskip("torch", reason="torch is an optional extra (pip install 'mobilestyle[torch]')")
    state = pytorch_examples_state(seed=4)
    torch.save({key: torch.from_numpy(value) for key, value in state.items()}, tmp_path / "style.pth")
    checkpoint = load_teacher(tmp_path / "style.pth")
    image = np.random.default_rng(5).uniform(0, 255, (24, 28, 3))
    assert np.abs(keras_forward(checkpoint, image) - pytorch_examples_forward(state, image)).max() < 0.05


def test_pth_that_is_not_a_transformer_net_is_a_user_error(tmp_path):
    torch = pytest.importorskip("torch", reason="torch is an optional extra")
    torch.save({"fc.weight": torch.zeros(3, 4)}, tmp_path / "other.pth")
    with pytest.raises(UserError, match="not a pytorch/examples TransformerNet"):
        load_teacher(tmp_path / "other.pth")


def test_pth_without_torch_is_a_user_error(tmp_path):
    try:
        import torch  # noqa: F401
        pytest.skip("torch is installed")
    except ImportError:
        pass
    (tmp_path / "style.pth").write_bytes(b"PK")
    with pytest.raises(UserError, match="needs torch"):
        load_pytorch_teacher(tmp_path / "style.pth")


def test_state_dict_of_another_net_is_a_user_error():
    with pytest.raises(UserError, match="not a pytorch/examples TransformerNet: it has no conv1.conv2d.weight"):
        pytorch_state_to_checkpoint({"fc.weight": np.zeros((3, 4), np.float32)})
    state = pytorch_examples_state()
    state = {k: v for k, v in state.items() if "running" not in k}
    state["conv2.conv2d.weight"] = np.zeros((64, 32, 5, 5), np.float32)
    with pytest.raises(UserError, match="conv2 has kernel shape"):
        pytorch_state_to_checkpoint(state)


def test_missing_variable_file_is_a_user_error(tmp_path):
    folder = write_ml5_folder(tmp_path / "t")
    (folder / "Variable_7").unlink()
    with pytest.raises(UserError, match="Variable_7 .* is missing"):
        load_teacher(folder)


def test_wrong_sized_variable_file_is_a_user_error(tmp_path):
    folder = write_ml5_folder(tmp_path / "t")
    (folder / "Variable_12").write_bytes(b"\0" * 100)
    with pytest.raises(UserError, match="Variable_12 .* has 100 bytes"):
        load_teacher(folder)


@pytest.mark.parametrize("manifest, message", [
    ("{not json", "not valid JSON"),
    ("[1, 2]", "must be a JSON object"),
    (json.dumps({"Variable": {"filename": "Variable"}}), "entry 'Variable' is missing or lacks"),
])
def test_malformed_manifest_is_a_user_error(tmp_path, manifest, message):
    folder = write_ml5_folder(tmp_path / "t")
    (folder / "manifest.json").write_text(manifest)
    with pytest.raises(UserError, match=message):
        load_teacher(folder)


def test_manifest_with_wrong_shape_or_escaping_path_is_a_user_error(tmp_path):
    folder = write_ml5_folder(tmp_path / "t")
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["Variable_3"]["shape"] = [3, 3, 32, 32]
    (folder / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(UserError, match=r"Variable_3 \(conv2/kernel\) has shape"):
        load_teacher(folder)
    manifest["Variable_3"]["shape"] = [3, 3, 32, 64]
    manifest["Variable_3"]["filename"] = "../../etc/passwd"
    (folder / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(UserError, match="points outside the teacher folder"):
        load_teacher(folder)


def test_missing_teacher_and_unknown_file_are_user_errors(tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        load_teacher(tmp_path / "nope")
    (tmp_path / "weights.bin").write_bytes(b"x")
    with pytest.raises(UserError, match="expected an ml5 folder"):
        load_teacher(tmp_path / "weights.bin")
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="has no manifest.json"):
        load_teacher(tmp_path / "empty")


def test_keep_blocks_renumbers_the_chosen_blocks_and_drops_the_rest():
    five = random_checkpoint(LENGSTROM_ARCH, seed=0)
    three = keep_blocks(five, (1, 2, 5))
    assert three.arch.blocks == 3 and three.arch.norm == "instance"
    assert np.array_equal(three.weights["res3_conv1/kernel"], five.weights["res5_conv1/kernel"])
    assert np.array_equal(three.weights["res1_conv2/kernel"], five.weights["res1_conv2/kernel"])
    assert not any(key.startswith(("res4", "res5")) for key in three.weights)
    stylized = three.build_model(32, 40)(np.zeros((1, 32, 40, 3), np.float32)).numpy()
    assert stylized.shape == (1, 32, 40, 3)
