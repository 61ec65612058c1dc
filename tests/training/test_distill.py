import csv
import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mobilestyle.errors import UserError
from mobilestyle.training import distill as distill_module
from mobilestyle.training import targets
from mobilestyle.networks.arch import ArchSpec
from mobilestyle.networks.checkpoint import load_checkpoint, random_checkpoint, save_checkpoint
from mobilestyle.networks.transformer_net import build_transformer_net
from tests.training.synthetic import write_vgg_npz
from mobilestyle.training.teachers import resize_conv_kernel
from mobilestyle.training.distill import DistillConfig, distill, preset_config, split_content, work_dir
from mobilestyle.styles import shipped_models_dir
from mobilestyle.training.student_init import checkpoint_init, teacher_init

TINY_TEACHER = ArchSpec(blocks=1, widths=(4, 8, 8), norm="instance", upsample="transposed", padding="zero",
                        output="tanh150", out_norm=True, eps=1e-3)
TINY_STUDENT = ArchSpec(blocks=1, widths=(4, 4, 8))


@pytest.fixture(scope="module")
def photos(tmp_path_factory) -> Path:
    """Ten smooth synthetic photos of two sizes."""
    folder = tmp_path_factory.mktemp("photos")
    rng = np.random.default_rng(0)
    for index in range(10):
        size = (90, 60) if index % 2 else (60, 90)
        small = rng.uniform(0, 255, (6, 6, 3)).astype(np.uint8)
        Image.fromarray(small).resize(size, Image.Resampling.BICUBIC).save(folder / f"photo{index}.png")
    return folder


@pytest.fixture(scope="module")
def teacher(tmp_path_factory) -> Path:
    return save_checkpoint(random_checkpoint(TINY_TEACHER, seed=1), tmp_path_factory.mktemp("teacher") / "t.npz")


def tiny_config(teacher: Path, photos: Path, out: Path, **overrides) -> DistillConfig:
    values = dict(teacher=teacher, content_dirs=[photos], out=out, arch=TINY_STUDENT, steps=2, batch_size=2,
                  crop_size=16, seed=0, frame_width=40, frame_height=32, eval_every_minutes=60)
    values.update(overrides)
    return DistillConfig(**values)


@pytest.fixture(scope="module")
def two_step_run(tmp_path_factory, teacher, photos) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("run") / "student.npz"
    return out, distill(tiny_config(teacher, photos, out))


def test_two_step_distill_writes_checkpoint_grid_curve_and_report(two_step_run):
    out, report = two_step_run
    student = load_checkpoint(out)
    assert student.arch == TINY_STUDENT
    assert student.meta["steps"] == 2
    stylized = student.build_model(32, 40)(np.zeros((1, 32, 40, 3), np.float32)).numpy()
    assert stylized.shape == (1, 32, 40, 3)

    folder = work_dir(out)
    with Image.open(folder / "grid.png") as grid:
        # content | teacher | student at half size, a gap, teacher and student crops at 100% (the whole 32x32 here)
        assert grid.size == (3 * 40 // 2 + 8 + 2 * 32, 32)
    saved = json.loads((folder / "report.json").read_text())
    assert saved == json.loads(json.dumps(report))
    assert saved["steps"] == 2 and saved["eval"]["frames"] == 1
    assert 0 < saved["eval"]["psnr_db"] < 60 and -1 <= saved["eval"]["ssim"] <= 1
    assert 0 < saved["eval"]["structure_psnr"] < 60 and saved["eval"]["detail_ratio"] > 0
    assert saved["eval"]["gram_distance"] is None  # no loss network: pixel loss only
    assert (folder / "curve.png").stat().st_size > 0
    rows = list(csv.DictReader(open(folder / "curve.csv")))
    assert [int(row["step"]) for row in rows] == [0, 2]
    assert not list(out.parent.glob(".*partial*"))
    recalibration = saved["batch_norm_recalibration"]
    assert recalibration["frames"] == 9 and recalibration["check_frames"] >= 1
    kept_if_better = recalibration["structure_psnr_after"] > recalibration["structure_psnr_before"]
    assert recalibration["kept"] == kept_if_better


def test_interrupted_run_resumes_from_the_saved_step_and_matches_an_uninterrupted_run(
        tmp_path, teacher, photos, monkeypatch):
    straight = distill(tiny_config(teacher, photos, tmp_path / "a" / "s.npz", steps=4))

    real_make_train_step = distill_module.make_train_step

    def interrupted_after_two_steps(*args):
        train_step, calls = real_make_train_step(*args), []

        def step(content, target):
            if len(calls) == 2:
                raise KeyboardInterrupt
            calls.append(None)
            return train_step(content, target)
        return step

    monkeypatch.setattr(distill_module, "make_train_step", interrupted_after_two_steps)
    with pytest.raises(KeyboardInterrupt):
        distill(tiny_config(teacher, photos, tmp_path / "b" / "s.npz", steps=4))
    assert load_checkpoint(tmp_path / "b" / "s.npz").meta["steps"] == 2
    monkeypatch.undo()

    resumed = distill(tiny_config(teacher, photos, tmp_path / "b" / "s.npz", steps=4, resume=True))
    assert resumed["steps"] == 4
    assert [row["step"] for row in resumed["curve"]] == [0, 4]
    a, b = load_checkpoint(tmp_path / "a" / "s.npz"), load_checkpoint(tmp_path / "b" / "s.npz")
    for key in a.weights:
        np.testing.assert_allclose(a.weights[key], b.weights[key], rtol=1e-4, atol=1e-5, err_msg=key)
    assert abs(straight["eval"]["psnr_db"] - resumed["eval"]["psnr_db"]) < 1e-3


def test_a_teacher_whose_metadata_names_an_absolute_path_is_recorded_portably(tmp_path, photos):
    """A teacher checkpoint written elsewhere may name its own teacher by an absolute path; neither the
    student's metadata nor the report repeats it."""
    named = random_checkpoint(TINY_TEACHER, seed=1, meta={"teacher": "/elsewhere/runs/muse/teacher.npz"})
    out = tmp_path / "s.npz"
    report = distill(tiny_config(save_checkpoint(named, tmp_path / "t.npz"), photos, out, steps=1))
    saved = json.loads((work_dir(out) / "report.json").read_text())
    assert saved["teacher"] == report["teacher"] == load_checkpoint(out).meta["teacher"] == "runs/muse/teacher.npz"


def test_resume_without_saved_state_is_a_user_error(tmp_path, teacher, photos):
    with pytest.raises(UserError, match="no saved distillation state"):
        distill(tiny_config(teacher, photos, tmp_path / "s.npz", resume=True))


def test_resume_with_another_architecture_is_a_user_error(two_step_run, teacher, photos):
    out, _ = two_step_run
    with pytest.raises(UserError, match="the saved net is"):
        distill(tiny_config(teacher, photos, out, arch=ArchSpec(blocks=1, widths=(4, 4, 4)), steps=4, resume=True))


def test_fixed_norm_statistics_are_measured_before_training_and_kept(tmp_path, teacher, photos, monkeypatch):
    fixed = {}
    real_fix = distill_module.fix_norm_statistics

    def spy(student, *args):
        real_fix(student, *args)
        fixed.update({f"{layer.name}/{v.name}": v.numpy().copy() for layer in student.layers for v in layer.weights})

    monkeypatch.setattr(distill_module, "fix_norm_statistics", spy)
    monkeypatch.setattr(distill_module, "recalibrate", lambda *args: None)
    distill(tiny_config(teacher, photos, tmp_path / "s.npz", steps=3, norm_stats="fixed"))
    trained = load_checkpoint(tmp_path / "s.npz").weights
    for key in ("conv1_norm/moving_mean", "conv1_norm/moving_variance", "res1_conv2_norm/moving_variance"):
        np.testing.assert_array_equal(trained[key], fixed[key])
    assert not np.allclose(fixed["conv1_norm/moving_variance"], 1.0)  # measured, not the initial value
    assert not np.allclose(trained["conv1/kernel"], fixed["conv1/kernel"])  # and the net did train


def test_teacher_init_copies_shared_weights(tmp_path, photos):
    teacher = save_checkpoint(random_checkpoint(ArchSpec(blocks=2, widths=(4, 4, 8), norm="instance"), seed=2),
                              tmp_path / "t.npz")
    distill(tiny_config(teacher, photos, tmp_path / "s.npz", steps=1, lr=1e-9, init="teacher"))
    student, source = load_checkpoint(tmp_path / "s.npz"), load_checkpoint(teacher)
    np.testing.assert_allclose(student.weights["conv1/kernel"], source.weights["conv1/kernel"], atol=1e-6)
    np.testing.assert_allclose(student.weights["res1_conv1/kernel"], source.weights["res1_conv1/kernel"], atol=1e-6)


def test_checkpoint_init_starts_from_another_student(tmp_path, teacher, photos):
    start = save_checkpoint(random_checkpoint(TINY_STUDENT, seed=5), tmp_path / "other_style.npz")
    distill(tiny_config(teacher, photos, tmp_path / "s.npz", steps=1, lr=1e-9, init=str(start)))
    student, source = load_checkpoint(tmp_path / "s.npz"), load_checkpoint(start)
    np.testing.assert_allclose(student.weights["out/kernel"], source.weights["out/kernel"], atol=1e-6)


def test_checkpoint_init_of_another_architecture_is_a_user_error(tmp_path, teacher, photos):
    start = save_checkpoint(random_checkpoint(ArchSpec(blocks=2, widths=(4, 4, 8)), seed=5), tmp_path / "o.npz")
    with pytest.raises(UserError, match="the student is"):
        distill(tiny_config(teacher, photos, tmp_path / "s.npz", steps=1, init=str(start)))


def test_checkpoint_init_starts_an_antialias_student_from_its_plain_twin(tmp_path, teacher, photos):
    start = save_checkpoint(random_checkpoint(TINY_STUDENT, seed=5), tmp_path / "plain.npz")
    antialias_student = dataclasses.replace(TINY_STUDENT, antialias=True)
    distill(tiny_config(teacher, photos, tmp_path / "s.npz", arch=antialias_student, steps=1, lr=1e-9,
                        init=str(start)))
    student, source = load_checkpoint(tmp_path / "s.npz"), load_checkpoint(start)
    assert student.arch == antialias_student
    np.testing.assert_allclose(student.weights["out/kernel"], source.weights["out/kernel"], atol=1e-6)


def test_shipped_muse_initialises_an_antialias_student_and_not_a_wider_one():
    muse_path = shipped_models_dir() / "muse.npz"
    muse = load_checkpoint(muse_path)
    antialias_arch = dataclasses.replace(muse.arch, antialias=True)
    student = build_transformer_net(antialias_arch)
    checkpoint_init(student, muse_path, antialias_arch)
    np.testing.assert_array_equal(student.get_layer("conv2").kernel.numpy(), muse.weights["conv2/kernel"])
    wider = dataclasses.replace(antialias_arch, widths=(32, 64, 96), block_widths=None)
    with pytest.raises(UserError, match="the student is"):
        checkpoint_init(build_transformer_net(wider), muse_path, wider)


@pytest.mark.parametrize("overrides, message", [
    ({"steps": None}, "give a budget"),
    ({"crop_size": 18}, "multiple of 4"),
    ({"crop_size": 64}, "larger than the 40x32 frames"),
    ({"init": "magic"}, "--init must be"),
    ({"init": "missing.npz"}, "does not exist"),
    ({"lr": 0.0}, "--lr must be positive"),
    ({"norm_stats": "moving"}, "--norm-stats must be one of batch, fixed"),
    ({"gram_weight": -1.0}, "--gram-weight must be a finite number >= 0"),
    ({"pixel_weight": 0.0}, "every loss weight is 0"),
    ({"teacher_pad": 6}, "--teacher-pad must be a multiple of 4"),
])
def test_bad_options_are_user_errors(tmp_path, teacher, photos, overrides, message):
    with pytest.raises(UserError, match=message):
        distill(tiny_config(teacher, photos, tmp_path / "s.npz", **overrides))


def test_missing_content_folder_is_a_user_error(tmp_path, teacher):
    with pytest.raises(UserError, match="not a folder"):
        distill(tiny_config(teacher, tmp_path / "nowhere", tmp_path / "s.npz"))


def test_cli_reports_a_bad_teacher_in_one_line(tmp_path, photos):
    (tmp_path / "teacher").mkdir()
    (tmp_path / "teacher" / "manifest.json").write_text("{}")
    result = subprocess.run(
        [sys.executable, "-c", "from mobilestyle.cli import main; main()", "distill",
         "--teacher", str(tmp_path / "teacher"), "--content-dir", str(photos), "--out", str(tmp_path / "s.npz"),
         "--steps", "1"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "entry 'Variable' is missing" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "s.npz").exists()


def test_held_out_photos_are_every_tenth_or_the_eval_folder(tmp_path, teacher, photos):
    train, held_out = split_content(tiny_config(teacher, photos, tmp_path / "s.npz"))
    assert [p.name for p in held_out] == ["photo0.png"]
    assert len(train) == 9 and not set(train) & set(held_out)
    with pytest.raises(UserError, match="no training photos left"):
        split_content(tiny_config(teacher, photos, tmp_path / "s.npz", eval_dir=photos))


def test_evaluation_photos_that_link_to_training_photos_are_counted(tmp_path, photos):
    linked = tmp_path / "linked"
    linked.mkdir()
    (linked / "a.png").symlink_to(photos / "photo3.png")
    (linked / "b.png").symlink_to(photos / "photo0.png")
    train = sorted(photos.glob("photo[1-9].png"))
    assert targets.trained_on(train, sorted(linked.iterdir())) == 1
    assert targets.trained_on(train, [photos / "photo0.png"]) == 0


def test_perceptual_losses_train_and_bad_vgg_files_are_user_errors(tmp_path, teacher, photos):
    vgg = write_vgg_npz(tmp_path / "vgg.npz")
    report = distill(tiny_config(teacher, photos, tmp_path / "s.npz", vgg_weights=vgg, steps=2, pixel_weight=0.0,
                                 lowpass_weight=100.0, feature_weight=0.5, gram_weight=2.0, tv_weight=1.0))
    assert report["steps"] == 2 and np.isfinite(report["final_loss"])
    assert report["eval"]["gram_distance"] > 0 and report["curve"][-1]["gram_distance"] > 0
    assert report["eval"]["training_photos_among_them"] == 0
    np.savez(tmp_path / "other.npz", x=np.zeros(3))
    with pytest.raises(UserError, match="holds no VGG conv layers"):
        distill(tiny_config(teacher, photos, tmp_path / "s2.npz", vgg_weights=tmp_path / "other.npz"))
    with pytest.raises(UserError, match="--vgg-weights .* does not exist"):
        distill(tiny_config(teacher, photos, tmp_path / "s2.npz", vgg_weights=tmp_path / "missing.npz"))


def test_the_coarse_gram_loss_alone_trains_and_needs_a_crop_that_survives_the_shrink(tmp_path, teacher, photos):
    vgg = write_vgg_npz(tmp_path / "vgg.npz")
    config = tiny_config(teacher, photos, tmp_path / "s.npz", vgg_weights=vgg, steps=2, crop_size=32, pixel_weight=0.0,
                         coarse_gram_weight=10.0, coarse_gram_shrink=2)
    assert config.needs_vgg and config.loss_weights() == {"coarse_gram": 10.0}
    report = distill(config)
    assert report["steps"] == 2 and np.isfinite(report["final_loss"]) and report["final_loss"] > 0
    assert report["recipe"]["coarse_gram_weight"] == 10.0 and report["recipe"]["coarse_gram_shrink"] == 2
    with pytest.raises(UserError, match="--crop-size 32 shrunk 4x leaves under 16 px for the coarse Gram loss"):
        tiny_config(teacher, photos, tmp_path / "s.npz", crop_size=32, coarse_gram_weight=1.0).validate()
    with pytest.raises(UserError, match="--coarse-gram-shrink must be one of 2, 4, 8, got 3"):
        tiny_config(teacher, photos, tmp_path / "s.npz", coarse_gram_shrink=3).validate()
    with pytest.raises(UserError, match="--coarse-gram-weight must be a finite number >= 0, got -1"):
        tiny_config(teacher, photos, tmp_path / "s.npz", coarse_gram_weight=-1.0).validate()


def test_a_student_that_is_the_teacher_scores_the_psnr_cap(tmp_path, teacher, photos):
    """Content frames, teacher frames, crops and evaluation line up: a copy of the teacher is exact
    (with the teacher run on the unpadded frame, like the student)."""
    report = distill(tiny_config(teacher, photos, tmp_path / "s.npz", arch=TINY_TEACHER, init="teacher",
                                 steps=1, lr=1e-12, teacher_pad=0))
    assert report["curve"][0]["psnr"] == 100.0 and report["curve"][0]["ssim"] == 1.0


def test_teacher_preset_cuts_the_teachers_layout_to_three_blocks_with_batch_norm(tmp_path, photos):
    five_blocks = ArchSpec(blocks=5, widths=(4, 8, 8), norm="instance", upsample="transposed", padding="zero",
                           output="tanh150", out_norm=True, eps=1e-3)
    teacher = save_checkpoint(random_checkpoint(five_blocks, seed=1), tmp_path / "t5.npz")
    config = preset_config("teacher", teacher=teacher, content_dirs=[photos], out=tmp_path / "s.npz",
                           steps=1, frame_width=40, frame_height=32)
    assert config.arch == ArchSpec(blocks=3, widths=(4, 8, 8), norm="batch", upsample="transposed",
                                   padding="zero", output="tanh150", out_norm=True, eps=1e-3)
    assert (config.init, config.norm_stats, config.batch_size, config.lr) == ("teacher", "fixed", 1, 1e-4)
    assert config.crop_size == 32


def test_preset_values_yield_to_options_given(tmp_path, teacher, photos):
    config = preset_config("teacher", arch=TINY_STUDENT, teacher=teacher, content_dirs=[photos], out=tmp_path / "s.npz",
                           steps=1, lr=3e-4, crop_size=16, init="random", batch_size=None)
    assert (config.arch, config.lr, config.crop_size, config.init, config.batch_size) == (TINY_STUDENT, 3e-4, 16,
                                                                                        "random", 1)
    scratch = preset_config("scratch", teacher=teacher, content_dirs=[photos], out=tmp_path / "s.npz", steps=1)
    assert (scratch.arch, scratch.init, scratch.norm_stats, scratch.crop_size) == (ArchSpec(), "random", "batch", 128)
    with pytest.raises(UserError, match="--preset must be one of perceptual, scratch, teacher"):
        preset_config("fast", teacher=teacher, content_dirs=[photos], out=tmp_path / "s.npz", steps=1)


def test_teacher_preset_run_from_the_cli_starts_from_the_teacher(tmp_path, teacher, photos):
    out = tmp_path / "s.npz"
    result = subprocess.run(
        [sys.executable, "-c", "from mobilestyle.cli import main; main()", "distill", "--preset", "teacher",
         "--teacher", str(teacher), "--content-dir", str(photos), "--out", str(out), "--steps", "1",
         "--crop-size", "16", "--eval-images", "2"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    student = load_checkpoint(out)
    assert student.arch == dataclasses.replace(TINY_TEACHER, norm="batch")
    assert student.meta["recipe"]["init"] == "teacher" and student.meta["recipe"]["norm_stats"] == "fixed"


def test_perceptual_preset_uses_the_projects_layout_with_the_teachers_head(tmp_path, photos):
    five_blocks = ArchSpec(blocks=5, widths=(4, 8, 8), norm="instance", upsample="transposed", padding="zero",
                           output="tanh150", out_norm=True, eps=1e-3)
    teacher = save_checkpoint(random_checkpoint(five_blocks, seed=1), tmp_path / "t5.npz")
    config = preset_config("perceptual", teacher=teacher, content_dirs=[photos], out=tmp_path / "s.npz",
                           steps=1, frame_width=40, frame_height=32, crop_size=16)
    assert config.arch == ArchSpec(blocks=3, widths=(4, 8, 8), norm="batch", upsample="nearest", padding="reflect",
                                   output="tanh150", out_norm=True, eps=1e-3)
    assert (config.init, config.norm_stats, config.pixel_weight) == ("teacher", "fixed", 0.0)
    assert (config.lowpass_weight, config.gram_weight, config.stability_weight, config.lr) == (100.0, 10.0, 100.0, 3e-4)
    assert config.needs_vgg


def test_teacher_init_turns_transposed_upsampling_kernels_into_resize_conv_kernels(tmp_path):
    teacher_arch = ArchSpec(blocks=1, widths=(4, 6, 8), norm="instance", upsample="transposed", padding="zero")
    teacher = random_checkpoint(teacher_arch, seed=3)
    student = build_transformer_net(dataclasses.replace(teacher_arch, norm="batch", upsample="nearest",
                                                        padding="reflect"))
    student.build((None, None, None, 3))
    teacher_init(student, teacher)
    up1 = student.get_layer("up1").kernel.numpy()
    transposed = teacher.weights["up1/kernel"]  # (H, W, out, in)
    assert transposed.shape == (3, 3, 6, 8) and up1.shape == (3, 3, 8, 6)
    np.testing.assert_array_equal(up1, resize_conv_kernel(transposed))


def test_resize_conv_kernel_stands_in_for_the_transposed_conv():
    """On random features, nearest-resize + the converted kernel follows the transposed conv's output
    (interior pixels) far better than the kernel merely flipped and transposed."""
    import tensorflow as tf

    rng = np.random.default_rng(1)
    x = rng.normal(size=(1, 20, 20, 8)).astype(np.float32)
    transposed = rng.normal(size=(3, 3, 4, 8)).astype(np.float32)
    expected = tf.nn.conv2d_transpose(x, transposed, (1, 40, 40, 4), 2, "SAME").numpy()[0, 2:-2, 2:-2]
    upsampled = np.repeat(np.repeat(x, 2, axis=1), 2, axis=2)

    def correlation(kernel):
        produced = tf.nn.conv2d(upsampled, kernel, 1, "SAME").numpy()[0, 2:-2, 2:-2]
        return np.corrcoef(produced.ravel(), expected.ravel())[0, 1]

    fitted, flipped = correlation(resize_conv_kernel(transposed)), correlation(np.transpose(transposed[::-1, ::-1], (0, 1, 3, 2)))
    assert fitted > 0.75 and fitted > flipped + 0.2


def test_teacher_targets_are_computed_on_a_reflect_padded_frame(tmp_path, teacher, photos):
    """The cached target is the teacher's output on the padded frame, cropped back; padding 0 is the plain frame."""
    config = tiny_config(teacher, photos, tmp_path / "s.npz")
    paths = split_content(config)[1]
    content, padded = distill_module.teacher_targets(load_checkpoint(teacher), paths, config, tmp_path / "a.npz", None)
    plain_config = dataclasses.replace(config, teacher_pad=0)
    _, plain = distill_module.teacher_targets(load_checkpoint(teacher), paths, plain_config, tmp_path / "b.npz", None)
    model = load_checkpoint(teacher).build_model(32 + 64, 40 + 64)
    framed = np.pad(content[0], ((32, 32), (32, 32), (0, 0)), mode="reflect")[None].astype(np.float32)
    expected = np.clip(np.rint(model(framed)[0].numpy()[32:-32, 32:-32]), 0, 255).astype(np.uint8)
    np.testing.assert_array_equal(padded[0], expected)
    assert not np.array_equal(padded, plain)


def test_stability_term_adds_the_shifted_output_error_to_the_loss(tmp_path, teacher, photos):
    plain = distill(tiny_config(teacher, photos, tmp_path / "a.npz", steps=1, lr=1e-12))
    stable = distill(tiny_config(teacher, photos, tmp_path / "b.npz", steps=1, lr=1e-12, stability_weight=1.0))
    assert np.isfinite(stable["final_loss"]) and stable["final_loss"] > plain["final_loss"]
    assert stable["recipe"]["stability_weight"] == 1.0 and stable["recipe"]["stability_shift"] == "random"
    with pytest.raises(UserError, match="--stability-shift must be 1, 2 or 3"):
        distill(tiny_config(teacher, photos, tmp_path / "c.npz", stability_weight=1.0, stability_shift=4))
    fixed = distill(tiny_config(teacher, photos, tmp_path / "d.npz", steps=1, lr=1e-12, stability_weight=1.0,
                                stability_shift=2))
    assert fixed["final_loss"] > plain["final_loss"] and fixed["recipe"]["stability_shift"] == 2


@pytest.mark.parametrize("option, value, message", [
    ("--stability-weight", "-1", "--stability-weight must be a finite number >= 0, got -1.0"),
    ("--stability-shift", "4", "--stability-shift must be 1, 2 or 3 px (off the stride-4 grid) or random, got 4"),
    ("--stability-shift", "sideways", "--stability-shift must be 1, 2 or 3 px (off the stride-4 grid) or random, "
                                      "got sideways"),
    ("--stability-noise", "-0.5", "--stability-noise must be >= 0, got -0.5"),
])
def test_bad_stability_options_from_the_cli_are_one_line_errors(monkeypatch, capsys, tmp_path, teacher, photos, option,
                                                                value, message):
    from mobilestyle.cli import main

    out = tmp_path / "s.npz"
    monkeypatch.setattr(sys, "argv", ["mobilestyle", "distill", "--preset", "scratch", "--teacher", str(teacher),
                                      "--content-dir", str(photos), "--out", str(out), "--steps", "1", option, value])
    with pytest.raises(SystemExit) as exited:
        main()
    err = capsys.readouterr().err
    assert exited.value.code == 2 and err.startswith("error:") and message in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not out.exists() and not work_dir(out).exists()


def test_a_student_checkpoint_keeps_its_norm_statistics_under_fixed_statistics(tmp_path, teacher, photos, monkeypatch):
    start = random_checkpoint(TINY_STUDENT, seed=5)
    start.weights["conv1_norm/moving_mean"] = np.full_like(start.weights["conv1_norm/moving_mean"], 3.0)
    path = save_checkpoint(start, tmp_path / "start.npz")
    monkeypatch.setattr(distill_module, "recalibrate", lambda *args: None)
    distill(tiny_config(teacher, photos, tmp_path / "s.npz", steps=1, lr=1e-9, init=str(path), norm_stats="fixed"))
    np.testing.assert_array_equal(load_checkpoint(tmp_path / "s.npz").weights["conv1_norm/moving_mean"], 3.0)
