import numpy as np
import pytest
from PIL import Image
from rich.console import Console

from mobilestyle.errors import UserError
from mobilestyle.training.optimize import optimize_images
from tests.training.synthetic import smooth_image, write_painting, write_photos, write_vgg_npz


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("inputs")
    return {"photos": write_photos(folder / "clip", count=2, size=(64, 64)),
            "painting": write_painting(folder / "painting.png"), "vgg": write_vgg_npz(folder / "vgg.npz")}


def run(inputs, paths, out, **options):
    values = dict(iterations=8, vgg_weights=inputs["vgg"], size=48, console=Console(quiet=True))
    values.update(options)
    return optimize_images(inputs["painting"], paths, out, **values)


def test_a_single_photo_and_a_clip_folder(inputs, tmp_path):
    photo = inputs["photos"] / "photo0.png"
    result = run(inputs, [photo, inputs["photos"]], tmp_path / "out")
    single, first, second = result.frames
    assert single.path == tmp_path / "out" / "photo0.png"
    assert [first.path, second.path] == [tmp_path / "out" / "clip" / "photo0.png", tmp_path / "out" / "clip" / "photo1.png"]
    for frame in result.frames:
        assert frame.final_loss < 0.8 * frame.initial_loss
        with Image.open(frame.path) as image:
            assert image.size == (48, 48)
    assert not single.warm_started and not first.warm_started and second.warm_started
    cold = run(inputs, [inputs["photos"] / "photo1.png"], tmp_path / "cold").frames[0]
    assert second.initial_loss < cold.initial_loss  # starting from the previous frame's result pays


def test_adam_also_reduces_the_loss(inputs, tmp_path):
    frame = run(inputs, [inputs["photos"] / "photo0.png"], tmp_path, method="adam", iterations=10).frames[0]
    assert frame.final_loss < 0.9 * frame.initial_loss


def test_a_video_clip_is_read_frame_by_frame(inputs, tmp_path):
    import cv2

    video = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 10, (64, 48))
    rng = np.random.default_rng(3)
    for _ in range(3):
        writer.write(np.asarray(smooth_image(rng, 64, 48))[..., ::-1].copy())
    writer.release()
    result = run(inputs, [video], tmp_path / "out", iterations=3, max_frames=2)
    assert [frame.path.name for frame in result.frames] == ["frame_00001.png", "frame_00002.png"]
    assert result.frames[1].warm_started


@pytest.mark.parametrize("problem, message", [
    ("missing image", "does not exist"),
    ("empty folder", "has no images"),
    ("corrupt painting", "not an image file Pillow can read"),
    ("not a video", "not a video"),
    ("zero iterations", "at least 1"),
    ("unknown optimizer", "must be one of"),
    ("same name twice", "same place"),
])
def test_bad_input_is_a_user_error(inputs, tmp_path, problem, message):
    paths, painting, options = [inputs["photos"] / "photo0.png"], inputs["painting"], {}
    if problem == "missing image":
        paths = [tmp_path / "nope.jpg"]
    elif problem == "empty folder":
        (tmp_path / "empty").mkdir()
        paths = [tmp_path / "empty"]
    elif problem == "corrupt painting":
        painting = tmp_path / "painting.jpg"
        painting.write_bytes(b"\xff\xd8\xff garbage")
    elif problem == "not a video":
        paths = [tmp_path / "clip.mp4"]
        paths[0].write_bytes(b"not a video")
    elif problem == "zero iterations":
        options["iterations"] = 0
    elif problem == "unknown optimizer":
        options["method"] = "sgd"
    elif problem == "same name twice":
        (tmp_path / "again").mkdir()
        Image.open(paths[0]).save(tmp_path / "again" / "photo0.png")
        paths.append(tmp_path / "again" / "photo0.png")
    with pytest.raises(UserError, match=message) as caught:
        optimize_images(painting, paths, tmp_path / "out", vgg_weights=inputs["vgg"], size=48, **options)
    assert "\n" not in str(caught.value)
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


def test_stylize_method_optimize_on_the_command_line(inputs, tmp_path, monkeypatch, capsys):
    import sys

    from mobilestyle.cli import main

    photo = inputs["photos"] / "photo0.png"
    common = ["mobilestyle", "stylize", str(photo), "--method", "optimize", "--out", str(tmp_path / "out")]
    monkeypatch.setattr(sys, "argv", common + ["--style-image", str(inputs["painting"]), "--vgg-weights",
                                               str(inputs["vgg"]), "--size", "48", "--iterations", "3"])
    with pytest.raises(SystemExit) as exited:
        main()
    assert exited.value.code == 0
    with Image.open(tmp_path / "out" / "photo0.png") as image:
        assert image.size == (48, 48)
    monkeypatch.setattr(sys, "argv", common)
    with pytest.raises(SystemExit) as exited:
        main()
    err = capsys.readouterr().err
    assert exited.value.code == 2 and "needs --style-image" in err and len(err.strip().splitlines()) == 1
