"""The evaluation computation: how exported models are compared, perfect students, calibration rows."""

import numpy as np
import pytest
import tensorflow as tf
from coremltools.proto import FeatureTypes_pb2

from mobilestyle.errors import UserError
from mobilestyle.evaluation.evaluate import (BLURRED, PHOTO, SHIFTED, Student, Teacher, area_downscale,
                                             bilinear_upsample, checkpoint_student, describe_path,
                                             display_round_trip, evaluate, load_student, load_teacher_net,
                                             unique_labels)
from mobilestyle.networks.arch import ArchSpec
from mobilestyle.networks.checkpoint import load_checkpoint, random_checkpoint, save_checkpoint
from mobilestyle.training.vgg import TEXTURE_LAYERS, load_loss_network
from tests.runner.coreml_specs import add_layer, network_spec

from .conftest import SMALL, TINY, random_frames

DISPLAY = (288, 162)  # 2.25x SMALL, like 1920x1080 over 853x480


def upsample_model(path, size=SMALL, display=DISPLAY):
    """An exported-style .mlmodel that only upsamples its input bilinearly (the export's 1080p layer)."""
    spec = network_spec({}, [])
    image = spec.description.input.add()
    image.name = "image"
    image.type.imageType.width, image.type.imageType.height = size
    image.type.imageType.colorSpace = FeatureTypes_pb2.ImageFeatureType.RGB
    output = spec.description.output.add()
    output.name = "stylized"
    output.type.imageType.width, output.type.imageType.height = display
    output.type.imageType.colorSpace = FeatureTypes_pb2.ImageFeatureType.RGB
    spec.neuralNetwork.preprocessing.add().featureName = "image"
    spec.neuralNetwork.preprocessing[0].scaler.channelScale = 1.0
    upsample = add_layer(spec, "upsample", ["image"], "stylized")
    upsample.mode, upsample.linearUpsampleMode = 1, 2  # bilinear, ALIGN_CORNERS_FALSE (tf.image.resize sampling)
    upsample.fractionalScalingFactor.extend([display[1] / size[1], display[0] / size[0]])
    path.write_bytes(spec.SerializeToString())
    return path


def identity_teacher():
    return Teacher("identity", "identity", "identity", lambda image: image)


def test_the_teachers_upsample_is_the_models_own():
    """The teacher's frame is brought to 1080p the way an exported model's upsample samples (tf.image.resize)."""
    image = random_frames(1)[0]
    expected = tf.image.resize(image[None].astype(np.float32), DISPLAY[::-1], method="bilinear").numpy()[0]
    produced = bilinear_upsample(image, DISPLAY)
    assert np.abs(produced.astype(np.float32) - expected).max() <= 0.5 + 1e-3


def test_round_trip_is_a_slight_blur():
    image = random_frames(1)[0]
    back = display_round_trip(image, DISPLAY)
    assert back.shape == image.shape
    assert 0 < np.abs(back.astype(int) - image).mean() < 40
    assert display_round_trip(image, SMALL) is image
    assert area_downscale(image, SMALL) is image


def test_an_exported_model_is_compared_with_the_teacher_resampled_the_same_way(tmp_path):
    """An exported model computing the teacher's function scores as the teacher; compared with the teacher's
    frame as it is, the up-and-down resampling alone would cost it detail and PSNR."""
    student = load_student(upsample_model(tmp_path / "up.mlmodel"), "onnxruntime", SMALL)
    assert (student.kind, student.display) == ("mlmodel", DISPLAY)
    frames = random_frames(2, seed=3)
    result = evaluate([student], identity_teacher(), frames, ["p0", "p1"], None)
    scores = result.results[0].students["up.mlmodel"]
    assert scores.psnr > 50 and scores.structure_psnr > 60
    assert scores.detail_ratio == pytest.approx(1.0, abs=0.01)
    naive = result.results[0].calibration[PHOTO]  # the photo (the teacher's frame) against itself, unresampled
    assert naive.psnr == 100.0
    raw_comparison = student.run(frames[0])
    from mobilestyle.training.quality import score

    unfair = score(frames[0], raw_comparison)
    assert unfair.psnr < 35 and unfair.detail_ratio < 0.9


def test_an_exported_model_of_another_size_is_a_user_error(tmp_path):
    path = upsample_model(tmp_path / "up.mlmodel")
    with pytest.raises(UserError, match="takes 128x72 frames; evaluate compares at 64x36"):
        load_student(path, "onnxruntime", (64, 36))


def test_unknown_student_suffix_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="expected a checkpoint"):
        load_student(tmp_path / "model.onnx", size=SMALL)


def test_the_teacher_as_its_own_student_scores_perfectly(inputs):
    teacher = load_teacher_net(inputs["teacher"], SMALL)
    student = checkpoint_student(load_checkpoint(inputs["teacher"]), "same", "same", SMALL)
    network = load_loss_network(inputs["vgg"], TEXTURE_LAYERS)
    frames = random_frames(2, seed=5)
    result = evaluate([student], teacher, frames, ["p0", "p1"], network)
    means = result.student_means()["same"]
    assert means["structure_psnr"] == 100.0 and means["psnr"] == 100.0 and means["ssim"] == 1.0
    assert means["gram_distance"] == pytest.approx(0.0, abs=1e-4)
    assert means["detail_ratio"] == 1.0
    assert means["border"] == means["reference_border"]
    calibration = result.calibration_means()
    assert set(calibration) == {SHIFTED, BLURRED, PHOTO}
    assert calibration[BLURRED]["detail_ratio"] < 0.8
    assert calibration[BLURRED]["structure_psnr"] > calibration[BLURRED]["psnr"]
    assert 0 < calibration[SHIFTED]["gram_distance"] and calibration[SHIFTED]["psnr"] < 100.0
    assert calibration[SHIFTED]["border"] is None and calibration[SHIFTED]["reference_border"] is None
    assert all(value is not None for row in (BLURRED, PHOTO) for value in calibration[row].values())


def test_a_padded_teacher_is_cropped_back_to_the_frame(inputs):
    frames = random_frames(1, seed=3)
    raw = load_teacher_net(inputs["teacher"], SMALL)
    padded = load_teacher_net(inputs["teacher"], SMALL, pad=8)
    raw_frame, padded_frame = raw.run(frames[0]), padded.run(frames[0])
    assert padded.pad == 8 and padded_frame.shape == raw_frame.shape
    # The outer rows see reflected content instead of the teacher's zero padding.
    assert not np.array_equal(raw_frame[:4], padded_frame[:4])


def test_a_teacher_pad_as_large_as_the_frame_is_a_user_error(inputs):
    with pytest.raises(UserError, match="--teacher-pad must be between 0 and"):
        load_teacher_net(inputs["teacher"], SMALL, pad=min(SMALL))


def test_students_are_scored_on_every_photo_and_some_shown(inputs):
    teacher = load_teacher_net(inputs["teacher"], SMALL)
    students = [checkpoint_student(load_checkpoint(inputs[key]), key, key, SMALL) for key in ("student_a", "student_b")]
    frames = random_frames(5, seed=1)
    result = evaluate(students, teacher, frames, [f"p{i}" for i in range(5)], None, grid_photos=2)
    assert [r.photo for r in result.results] == ["p0", "p1", "p2", "p3", "p4"]
    assert all(set(r.students) == {"student_a", "student_b"} for r in result.results)
    assert all(r.students["student_a"].gram_distance is None for r in result.results)
    assert len(result.grid) == 2 and np.array_equal(result.grid[0].photo, frames[0])
    assert np.array_equal(result.grid[1].photo, frames[4])
    assert result.student_means()["student_a"]["psnr"] < 40  # different random nets


def test_no_student_or_no_photo_is_a_user_error():
    with pytest.raises(UserError, match="at least one student"):
        evaluate([], identity_teacher(), random_frames(1), ["p"], None)
    student = Student("s", "s", "checkpoint", "", lambda image: image)
    with pytest.raises(UserError, match="no photos"):
        evaluate([student], identity_teacher(), random_frames(0), [], None)


def test_describe_path_never_gives_an_absolute_path(tmp_path, monkeypatch):
    inside = tmp_path / "work" / "models" / "a.npz"
    inside.parent.mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "work")
    assert describe_path(inside) == "models/a.npz"
    assert describe_path(tmp_path / "elsewhere" / "teacher") == "teacher"
    assert describe_path(tmp_path / "work") == "."


def test_unique_labels():
    students = [Student(name, name, "checkpoint", "", lambda image: image) for name in ("a", "b", "a", "a")]
    unique_labels(students)
    assert [s.label for s in students] == ["a", "b", "a#2", "a#3"]


def test_a_teacher_named_by_an_absolute_path_in_its_metadata_gets_a_portable_label(tmp_path):
    checkpoint = random_checkpoint(ArchSpec.parse(TINY), 3, {"teacher": "/elsewhere/runs/la_muse/teacher.npz"})
    teacher = load_teacher_net(save_checkpoint(checkpoint, tmp_path / "t.npz"), SMALL)
    assert teacher.label == "runs/la_muse/teacher.npz"
