import dataclasses
import json
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from mobilestyle.cli import main
from mobilestyle.errors import UserError
from mobilestyle.networks.arch import ArchSpec
from mobilestyle.networks.checkpoint import load_checkpoint
from mobilestyle.networks.transformer_net import build_transformer_net
from mobilestyle.training.losses import style_grams
from mobilestyle.training.perceptual import (TrainConfig, crop_batches, load_content_photos, load_style,
                                             make_train_step, train, work_dir)
from mobilestyle.training.stability import stability_loss
from mobilestyle.training.vgg import load_loss_network
from tests.models.test_shipped_styles import absolute_paths
from tests.training.synthetic import write_painting, write_photos, write_vgg_npz

TINY_ARCH = ArchSpec(blocks=1, widths=(4, 8, 8))


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("inputs")
    return {"photos": write_photos(folder / "photos"), "painting": write_painting(folder / "painting.png"),
            "vgg": write_vgg_npz(folder / "vgg.npz")}


def tiny_config(inputs, out, **overrides) -> TrainConfig:
    values = dict(style_image=inputs["painting"], content_dir=inputs["photos"], out=out, arch=TINY_ARCH,
                  vgg_weights=inputs["vgg"], steps=2, batch_size=2, crop_size=32, style_size=64, jit_compile=False,
                  licence="public domain")
    values.update(overrides)
    return TrainConfig(**values)


@pytest.fixture(scope="module")
def two_step_run(inputs, tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "painting.npz"
    return out, train(tiny_config(inputs, out))


def test_two_step_run_writes_a_loadable_checkpoint_grid_and_report(two_step_run):
    out, report = two_step_run
    checkpoint = load_checkpoint(out)
    assert checkpoint.arch == TINY_ARCH
    assert checkpoint.meta["style"] == "painting"
    assert checkpoint.meta["source_painting"] == "painting.png"
    assert checkpoint.meta["licence"] == "public domain"
    assert checkpoint.meta["steps"] == 2
    assert checkpoint.meta["recipe"]["style_weight"] == 10.0
    assert checkpoint.build_model(40, 44)(np.zeros((1, 40, 44, 3), np.float32)).shape == (1, 40, 44, 3)

    folder = work_dir(out)
    saved = json.loads((folder / "report.json").read_text())
    assert saved["steps"] == report["steps"] == 2
    assert [point["step"] for point in saved["curve"]] == [1, 2]
    assert set(saved["curve"][0]) == {"step", "loss", "content", "style", "tv"}
    distances = saved["gram_distance"]
    assert distances["before"]["photos"] > 0 and distances["after"]["trained_net"] > 0
    with Image.open(folder / "grid.png") as grid:
        assert grid.height == 2 * 40 and grid.width > 3 * 40  # side = 1.25 x the 32-pixel crop
    with Image.open(folder / "curve.png") as curve:
        assert curve.format == "PNG"
    assert not list(out.parent.glob("*.partial*"))


def test_the_report_metadata_and_state_hold_no_absolute_path(two_step_run):
    """Painting, photos, VGG weights and out were all given as absolute paths (outside the working folder)."""
    out, _ = two_step_run
    saved = json.loads((work_dir(out) / "report.json").read_text())
    meta = load_checkpoint(out).meta
    with np.load(work_dir(out) / "state.npz", allow_pickle=False) as data:
        header = json.loads(bytes(data["header"]).decode())
    assert absolute_paths(saved) == [] and absolute_paths(meta) == [] and absolute_paths(header) == []
    assert saved["checkpoint"] == "painting.npz" and saved["painting"] == header["painting"] == "painting.png"
    assert saved["gram_distance"]["photos"][0].startswith("photo")
    assert meta["recipe"]["vgg_weights"] == "vgg.npz" and meta["recipe"]["content_dir"] == "photos"
    assert saved["recipe"] == meta["recipe"] == header["recipe"]


def test_resume_continues_from_the_saved_step_like_an_uninterrupted_run(two_step_run, inputs, tmp_path):
    out, _ = two_step_run
    resumed = train(tiny_config(inputs, out, steps=4, resume=True))
    assert resumed["steps"] == 4 and resumed["steps_this_run"] == 2
    assert [point["step"] for point in resumed["curve"]] == [1, 2, 3, 4]
    straight_out = tmp_path / "straight.npz"
    train(tiny_config(inputs, straight_out, steps=4))
    resumed_weights, straight_weights = load_checkpoint(out).weights, load_checkpoint(straight_out).weights
    for key, value in straight_weights.items():
        np.testing.assert_allclose(resumed_weights[key], value, rtol=1e-4, atol=1e-5, err_msg=key)

    with pytest.raises(UserError, match="already at step 4"):
        train(tiny_config(inputs, out, steps=4, resume=True))
    other = write_painting(tmp_path / "other.png", seed=7)
    with pytest.raises(UserError, match="another painting"):
        train(tiny_config(inputs, out, style_image=other, steps=6, resume=True))
    with pytest.raises(UserError, match="no saved training state"):
        train(tiny_config(inputs, tmp_path / "fresh.npz", resume=True))


def test_loss_and_gram_distance_go_down_with_the_xla_step(inputs, tmp_path):
    report = train(tiny_config(inputs, tmp_path / "xla.npz", steps=12, jit_compile=True, lr=3e-3))
    losses = [point["loss"] for point in report["curve"]]
    assert np.mean(losses[-3:]) < 0.75 * np.mean(losses[:3])
    distances = report["gram_distance"]
    assert distances["after"]["trained_net"] < 0.5 * distances["before"]["initial_net"]
    assert report["jit_compile"] is True


@pytest.mark.parametrize("shift", [3, "random"])
def test_stability_term_trains_and_is_reported_with_its_options(inputs, tmp_path, shift):
    out = tmp_path / "stable.npz"
    report = train(tiny_config(inputs, out, stability_weight=50.0, stability_shift=shift, stability_noise=1.0))
    assert [set(point) for point in report["curve"]] == [{"step", "loss", "content", "style", "tv", "stability"}] * 2
    for point in report["curve"]:
        assert point["stability"] > 0
        assert point["loss"] == pytest.approx(point["content"] + point["style"] + point["tv"] + point["stability"],
                                              rel=1e-4)
    saved = json.loads((work_dir(out) / "report.json").read_text())
    for recipe in (saved["recipe"], load_checkpoint(out).meta["recipe"]):
        assert (recipe["stability_weight"], recipe["stability_shift"], recipe["stability_noise"]) == (50.0, shift, 1.0)
    assert (work_dir(out) / "curve.png").stat().st_size > 0


def test_the_stability_gradient_joins_the_step(inputs):
    """Taken inside the tape, the weighted term's gradient is added to the step's: one SGD step with it
    moves the weights by that gradient more than the same step without it."""
    config = tiny_config(inputs, inputs["photos"] / "unused.npz", stability_weight=0.5, stability_noise=0.0)
    loss_net = load_loss_network(inputs["vgg"])
    grams = style_grams(loss_net, load_style(inputs["painting"], config.style_size))
    content = next(iter(crop_batches(load_content_photos(inputs["photos"], config.crop_size)[0], config, 0)))
    net = build_transformer_net(TINY_ARCH)
    net.build((None, None, None, 3))
    start = net.get_weights()

    def moved_by_a_step(step_config) -> list[np.ndarray]:
        net.set_weights(start)
        optimizer = keras.optimizers.SGD(1.0)
        optimizer.build(net.trainable_variables)
        before = [variable.numpy() for variable in net.trainable_variables]
        make_train_step(net, loss_net, grams, optimizer, step_config)(content)
        return [variable.numpy() - value for variable, value in zip(net.trainable_variables, before)]

    plain, stable = moved_by_a_step(dataclasses.replace(config, stability_weight=0.0)), moved_by_a_step(config)
    net.set_weights(start)
    with tf.GradientTape() as tape:
        term = stability_loss(net, content, net(content, training=True), 2, 0.0, 0, tf.constant(0, tf.int64),
                              training=True)
        weighted = 0.5 * term
    gradients = tape.gradient(weighted, net.trainable_variables)
    largest = max(float(tf.reduce_max(tf.abs(g))) for g in gradients if g is not None)
    assert largest > 0
    for variable, without, with_term, gradient in zip(net.trainable_variables, plain, stable, gradients):
        expected = np.zeros_like(without) if gradient is None else -gradient.numpy()
        np.testing.assert_allclose(with_term - without, expected, atol=1e-4 * largest, err_msg=variable.path)


@pytest.mark.parametrize("option, value, message", [
    ("--stability-weight", "-1", "--stability-weight must be a finite number >= 0, got -1.0"),
    ("--stability-weight", "inf", "--stability-weight must be a finite number >= 0, got inf"),
    ("--stability-shift", "4", "--stability-shift must be 1, 2 or 3 px (off the stride-4 grid) or random, got 4"),
    ("--stability-shift", "0", "--stability-shift must be 1, 2 or 3 px"),
    ("--stability-noise", "-0.5", "--stability-noise must be >= 0, got -0.5"),
])
def test_bad_stability_options_are_one_line_errors_that_write_nothing(monkeypatch, capsys, tmp_path, inputs, option,
                                                                      value, message):
    out = tmp_path / "out" / "style.npz"
    code, err = run_cli(monkeypatch, capsys, "--style-image", inputs["painting"], "--content-dir", inputs["photos"],
                        "--vgg-weights", inputs["vgg"], "--arch", "blocks=1,widths=4/8/8", "--crop-size", "32",
                        "--steps", "1", option, value, "--out", out)
    assert code == 2
    assert err.startswith("error:") and message in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not out.exists() and not work_dir(out).exists()


def run_cli(monkeypatch, capsys, *args) -> tuple[int, str]:
    monkeypatch.setattr(sys, "argv", ["mobilestyle", "train", *map(str, args)])
    with pytest.raises(SystemExit) as exited:
        main()
    return exited.value.code, capsys.readouterr().err


def bad_input(tmp_path, inputs, problem):
    """The (painting, content folder, vgg) arguments for one kind of bad input."""
    painting, photos, weights = inputs["painting"], inputs["photos"], inputs["vgg"]
    if problem == "corrupt painting":
        painting = tmp_path / "painting.jpg"
        painting.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    elif problem == "tiny painting":
        painting = tmp_path / "tiny.png"
        Image.new("RGB", (40, 40), "red").save(painting)
    elif problem == "empty content folder":
        photos = tmp_path / "empty"
        photos.mkdir()
    elif problem == "content folder without images":
        photos = tmp_path / "notes"
        photos.mkdir()
        (photos / "readme.txt").write_text("no photos here")
    elif problem == "tiny photos":
        photos = write_photos(tmp_path / "tiny", size=(20, 24))
    elif problem == "missing content folder":
        photos = tmp_path / "nowhere"
    elif problem == "missing vgg":
        weights = tmp_path / "absent.npz"
    elif problem == "wrong vgg":
        weights = tmp_path / "wrong.npz"
        np.savez(weights, something=np.zeros(3))
    return painting, photos, weights


@pytest.mark.parametrize("problem, message", [
    ("corrupt painting", "damaged or truncated"),
    ("tiny painting", "too small"),
    ("empty content folder", "has no images"),
    ("content folder without images", "has no images"),
    ("tiny photos", "too small"),
    ("missing content folder", "does not exist"),
    ("missing vgg", "does not exist"),
    ("wrong vgg", "no VGG conv layers"),
])
def test_bad_input_is_a_one_line_error_and_writes_nothing(monkeypatch, capsys, tmp_path, inputs, problem, message):
    painting, photos, weights = bad_input(tmp_path, inputs, problem)
    out = tmp_path / "out" / "style.npz"
    code, err = run_cli(monkeypatch, capsys, "--style-image", painting, "--content-dir", photos, "--vgg-weights",
                        weights, "--arch", "blocks=1,widths=4/8/8", "--crop-size", "48", "--steps", "1", "--out", out)
    assert code == 2
    assert err.startswith("error:") and message in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not out.exists() and not work_dir(out).exists()
