"""The styles shipped in models/: every checkpoint loads, is small, carries complete metadata and no
absolute path of the machine it was made on; ship_style writes reproducible commands and the quality
figures that `mobilestyle styles` shows."""

import dataclasses
import json
import re
import shlex
from pathlib import Path

import numpy as np
import pytest

from mobilestyle.errors import UserError
from mobilestyle.networks.arch import ArchSpec
from mobilestyle.networks.checkpoint import load_checkpoint, random_checkpoint, save_checkpoint
from mobilestyle.portable_paths import portable, portable_path
from mobilestyle.styles import TEACHER_FOLDERS, shipped_models_dir, teacher_folder
from mobilestyle.training import distill as distill_module
from mobilestyle.training.distill import PRESETS, DistillConfig
from mobilestyle.training.targets import stylize_frames
from tests.cli.conftest import run_cli  # noqa: F401  (the fixture)
from tests.conftest import REPO_ROOT, load_script
from tests.training.synthetic import VGG19_LAYERS, smooth_image, write_vgg_npz

MODELS = shipped_models_dir()
SHIPPED = sorted(MODELS.glob("*.npz"))
REQUIRED_KEYS = {"style", "checkpoint", "source_painting", "public_domain", "licence", "teacher", "student_arch",
                 "recipe", "quality"}
# An absolute path: a `/` at the start of a string or after a space, bracket, quote, `=` or `,`, followed by a
# name (not `//` of a URL, not a division sign).
ABSOLUTE = re.compile(r"(?:^|[\s(\[=,\"'])/(?![/\s])")
TINY = "blocks=1,width=0.25"
SIZE = (72, 48)


def load_ship_style():
    return load_script(REPO_ROOT / "models" / "ship_style.py", "ship_style")


ship_style = load_ship_style()


def absolute_paths(value) -> list[str]:
    """Every string in a JSON value (keys too) that holds an absolute path."""
    if isinstance(value, dict):
        return [found for key, item in value.items() for found in absolute_paths(key) + absolute_paths(item)]
    if isinstance(value, list):
        return [found for item in value for found in absolute_paths(item)]
    return [value] if isinstance(value, str) and ABSOLUTE.search(value) else []


def header(path: Path) -> dict:
    with np.load(path, allow_pickle=False) as data:
        return json.loads(bytes(data["__mobilestyle__"]).decode())


def test_muse_and_three_public_domain_styles_are_shipped():
    infos = [json.loads(path.with_suffix(".json").read_text()) for path in SHIPPED]
    assert "muse" in {info["style"] for info in infos}
    assert sum(info["public_domain"] for info in infos) >= 3


@pytest.mark.parametrize("path", SHIPPED, ids=lambda path: path.stem)
def test_shipped_style_is_small_complete_and_runs(path: Path):
    info = json.loads(path.with_suffix(".json").read_text())
    assert REQUIRED_KEYS <= set(info), f"{path.stem}.json lacks {REQUIRED_KEYS - set(info)}"
    assert info["style"] == path.stem and info["checkpoint"] == path.name
    assert path.stat().st_size < 5e6
    assert 0 < info["quality"]["psnr_db"] <= 100 and info["quality"]["size"] == "853x480"
    assert info["recipe"]["command"].startswith("mobilestyle distill")

    checkpoint = load_checkpoint(path)
    assert str(checkpoint.arch) == info["student_arch"]
    frame = np.random.default_rng(0).uniform(0, 255, (1, 32, 48, 3)).astype(np.float32)
    stylized = checkpoint.build_model(32, 48)(frame).numpy()
    assert stylized.shape == (1, 32, 48, 3)
    assert np.isfinite(stylized).all() and stylized.std() > 1.0


def test_every_shipped_style_and_no_other_has_a_teacher_folder():
    assert set(TEACHER_FOLDERS) == {path.stem for path in MODELS.glob("*.json")} == set(ship_style.STYLES)
    with pytest.raises(UserError, match="no ml5 teacher is known for style 'candy'"):
        teacher_folder("candy")


@pytest.mark.parametrize("path", SHIPPED, ids=lambda path: path.stem)
def test_teacher_folder_is_the_teacher_the_shipped_style_names_and_was_distilled_from(path: Path):
    info = json.loads(path.with_suffix(".json").read_text())
    named = re.search(r"models/style-transfer/(\S+)", info["teacher"])
    assert named and named.group(1) == teacher_folder(path.stem), info["teacher"]
    words = shlex.split(info["recipe"]["command"])
    assert Path(words[words.index("--teacher") + 1]).name == teacher_folder(path.stem)


@pytest.mark.parametrize("path", SHIPPED, ids=lambda path: path.stem)
def test_shipped_metadata_holds_no_absolute_path(path: Path):
    info = json.loads(path.with_suffix(".json").read_text())
    assert absolute_paths(info) == [], f"{path.stem}.json"
    assert absolute_paths(header(path)) == [], f"{path.name} header"
    assert absolute_paths(shlex.split(info["recipe"]["command"])) == []
    assert info["recipe"]["command"] == ship_style.command_line(header(path)["meta"]["recipe"])


def test_the_absolute_path_check_finds_paths_inside_text():
    assert absolute_paths({"a": ["x", {"b": "--teacher /work/t"}]}) == ["--teacher /work/t"]
    assert absolute_paths("/work/shared/data/content (30 frames)") and absolute_paths({"/k": 1})
    assert absolute_paths(["blocks=3,widths=32/64/128", "models/style-transfer/la_muse", "https://x.org/a",
                           "../shared/data/vgg/v.npz", "16:9 centre crop", "66 ms x MACs / 48.0e9"]) == []


@pytest.mark.parametrize("path, expected", [
    ("/work/shared/data/vgg/v.npz", "../shared/data/vgg/v.npz"),
    ("/mnt/other/shared/data/content/bsds500/test", "../shared/data/content/bsds500/test"),
    ("/work/main/../shared/data", "../shared/data"),
    ("/work/runs/s4/muse/muse.npz", "runs/muse/muse.npz"),
    ("/work/runs/wave.npz", "runs/wave.npz"),
    ("/opt/teachers/la_muse", "la_muse"),
    ("runs/m.npz", "runs/m.npz"),
    ("../shared/data/x", "../shared/data/x"),
    ("blocks=3,widths=32/64/128", "blocks=3,widths=32/64/128"),
    ("teacher", "teacher"),
])
def test_portable_path_examples(path, expected, tmp_path):
    assert portable_path(path, tmp_path) == expected


def test_portable_path_inside_the_base_folder_is_relative_to_it(tmp_path, monkeypatch):
    repo = tmp_path / "repo"
    (repo / "models").mkdir(parents=True)
    assert portable_path(repo / "models" / "scream.npz", repo) == "models/scream.npz"
    assert portable_path(str(repo), repo) == "."
    monkeypatch.chdir(repo)
    assert portable_path(str(repo / "models" / "scream.npz")) == "models/scream.npz"
    assert portable_path(str(tmp_path / "elsewhere" / "teacher.npz")) == "teacher.npz"


def test_portable_walks_a_recipe_and_keeps_everything_else(tmp_path):
    recipe = {"teacher": "/work/shared/data/teachers/ml5/la_muse", "content_dirs": ["/work/shared/data/c/a", "b"],
              "out": "/work/runs/s4/muse/muse.npz", "steps": None, "lr": 1e-4, "arch": "widths=32/64/128",
              "nested": {"init": "/somewhere/models/scream.npz"}, "fp16": True}
    assert portable(recipe, tmp_path) == {
        "teacher": "../shared/data/teachers/ml5/la_muse", "content_dirs": ["../shared/data/c/a", "b"],
        "out": "runs/muse/muse.npz", "steps": None, "lr": 1e-4, "arch": "widths=32/64/128",
        "nested": {"init": "scream.npz"}, "fp16": True}


def command_config(run_cli, monkeypatch, command: str, preset: str) -> DistillConfig:
    """The DistillConfig that `command` (plus `--preset`) gives to the distillation, without running it."""
    captured = []
    monkeypatch.setattr(distill_module, "distill", lambda config, *args, **options: captured.append(config))
    words = shlex.split(command)
    assert words[:2] == ["mobilestyle", "distill"]
    code, _, err = run_cli(*words[1:], "--preset", preset)
    assert code == 0, err
    return captured[0]


def new_recipe() -> dict:
    """A recipe whose every option differs from every preset's value and from the defaults."""
    config = DistillConfig(
        teacher=Path("teachers/la_muse"), content_dirs=[Path("photos/a"), Path("photos/b")], out=Path("runs/m/m.npz"),
        arch=ArchSpec.parse("blocks=2,widths=16/32/64,upsample=transposed"), steps=7, minutes=12.5, batch_size=3,
        crop_size=96, lr=3e-4, seed=5, eval_dir=Path("held_out"), eval_images=9, train_images=11,
        vgg_weights=Path("../shared/data/vgg/v.npz"), pixel_weight=0.25, lowpass_weight=50.0, lowpass_sigma=1.5,
        feature_weight=0.75, gram_weight=3.0, tv_weight=1e-5, teacher_pad=16, init="models/scream.npz",
        norm_stats="batch", eval_every_minutes=2.0, checkpoint_every_minutes=4.0, fp16=True)
    changed = {"stability_weight": 0.5, "stability_shift": 3, "stability_noise": 1.0}  # where the config has them
    names = {field.name for field in dataclasses.fields(DistillConfig)}
    return dataclasses.replace(config, **{key: value for key, value in changed.items() if key in names}).recipe()


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_command_line_of_a_new_recipe_reproduces_it_whatever_the_preset(run_cli, monkeypatch, preset):
    recipe = new_recipe()
    command = ship_style.command_line(recipe)
    config = command_config(run_cli, monkeypatch, command, preset)
    assert config.recipe() == recipe
    words = shlex.split(command)
    assert words[:4] == ["mobilestyle", "distill", "--teacher", "teachers/la_muse"] and words[-1] == "--fp16"
    assert words[words.index("--norm-stats") + 1] == "batch" and words[words.index("--pixel-weight") + 1] == "0.25"
    assert "--preset" not in words


# The recipe in muse.npz's header before its paths were made portable (recorded by the pre-perceptual distill).
OLD_RECIPE = {
    "teacher": "/work/shared/data/teachers/ml5/la_muse",
    "content_dirs": ["/work/shared/data/content/bsds500/train", "/work/shared/data/content/bsds500/val"],
    "out": "/work/runs/s4/muse/muse.npz",
    "arch": "blocks=3,widths=32/64/128,conv=full,norm=batch,upsample=transposed,padding=zero,output=tanh150,"
            "out_norm=yes,eps=0.001",
    "steps": None, "minutes": 50.0, "batch_size": 1, "crop_size": 480, "lr": 0.0001, "seed": 0,
    "eval_dir": "/work/shared/data/content/bsds500/test", "eval_images": 30, "train_images": 120,
    "vgg_weights": None, "feature_weight": 0.1, "init": "teacher", "norm_stats": "fixed", "eval_every_minutes": 5.0,
    "checkpoint_every_minutes": 5.0, "frame_width": 853, "frame_height": 480, "resume": False, "fp16": True}


@pytest.mark.parametrize("preset", sorted(PRESETS))
@pytest.mark.parametrize("norm_stats", ["fixed", None])
def test_command_line_of_an_old_recipe_spells_out_its_pixel_loss_and_unpadded_teacher(run_cli, monkeypatch, preset,
                                                                                      norm_stats):
    recipe = {key: value for key, value in OLD_RECIPE.items() if norm_stats or key != "norm_stats"}
    command = ship_style.command_line(recipe)
    assert absolute_paths(shlex.split(command)) == []
    config = command_config(run_cli, monkeypatch, command, preset)
    assert (config.pixel_weight, config.lowpass_weight, config.feature_weight, config.gram_weight,
            config.tv_weight) == (1.0, 0.0, 0.0, 0.0, 0.0)
    assert config.teacher_pad == 0 and config.norm_stats == (norm_stats or "batch")
    assert config.arch == ArchSpec.parse(OLD_RECIPE["arch"]) and config.init == "teacher"
    assert (config.batch_size, config.crop_size, config.lr, config.minutes, config.steps) == (1, 480, 1e-4, 50.0, None)
    assert (config.eval_images, config.train_images, config.eval_every_minutes) == (30, 120, 5.0)
    assert str(config.teacher) == "../shared/data/teachers/ml5/la_muse"
    assert [str(path) for path in config.content_dirs] == ["../shared/data/content/bsds500/train",
                                                           "../shared/data/content/bsds500/val"]
    assert str(config.eval_dir) == "../shared/data/content/bsds500/test"
    assert str(config.out) == "runs/muse/muse.npz" and config.fp16 and config.vgg_weights is None


def test_an_old_recipe_with_vgg_weights_keeps_its_feature_weight():
    words = shlex.split(ship_style.command_line({**OLD_RECIPE, "vgg_weights": "/work/shared/data/vgg/v.npz"}))
    assert words[words.index("--feature-weight") + 1] == "0.1"
    assert words[words.index("--vgg-weights") + 1] == "../shared/data/vgg/v.npz"


@pytest.fixture
def tiny_run(tmp_path):
    """A distillation run's outputs at 72x48 (student, cached held-out frames), its teacher and a VGG19 stack.

    The recipe holds this machine's absolute paths, as a run records them."""
    teacher_path = save_checkpoint(random_checkpoint(ArchSpec.parse(TINY), 3, {"teacher": "tiny"}),
                                   tmp_path / "teachers" / "tiny.npz", fp16=True)
    teacher = load_checkpoint(teacher_path)
    rng = np.random.default_rng(0)
    content = np.stack([np.asarray(smooth_image(rng, *SIZE)) for _ in range(3)])

    def make(student, pad: int, name: str):
        out = tmp_path / "runs" / name / f"{name}.npz"
        config = DistillConfig(teacher=teacher_path, content_dirs=[tmp_path / "photos"], out=out,
                               eval_dir=tmp_path / "shared" / "data" / "content" / "test", minutes=1.0,
                               teacher_pad=pad, vgg_weights=tmp_path / "vgg19.npz", fp16=True)
        student.meta = {"style": "tiny", "teacher": "tiny", "steps": 4, "minutes": 1.0, "recipe": config.recipe(),
                        "final": True}
        save_checkpoint(student, out, fp16=True)
        model = teacher.build_model(SIZE[1] + 2 * pad, SIZE[0] + 2 * pad)
        (out.parent / f"{name}.distill").mkdir()
        np.savez(out.parent / f"{name}.distill" / "eval_targets.npz", content=content,
                 target=stylize_frames(model, content, pad=pad))
        return out

    return {"teacher": teacher_path, "vgg": write_vgg_npz(tmp_path / "vgg19.npz", VGG19_LAYERS),
            "same": make(load_checkpoint(teacher_path), 0, "same"),
            "other": make(random_checkpoint(ArchSpec.parse(TINY), 4), 4, "other"),
            "models": tmp_path / "repo" / "models", "repo": tmp_path / "repo"}


def ship(run: dict, name: str, teacher: bool, style: str = "rain_princess") -> dict:
    return ship_style.ship(style, run[name], run["vgg"], run["teacher"] if teacher else None,
                           models=run["models"], base=run["repo"])


def test_ship_records_the_evaluate_figures_with_calibration_and_portable_paths(tiny_run, run_cli, monkeypatch):
    info = ship(tiny_run, "same", teacher=True)
    quality = info["quality"]
    # The student is the teacher: perfect figures; the calibration rows are the teacher's own.
    assert quality["structure_psnr"] == 100.0 and quality["psnr_db"] == 100.0 and quality["ssim"] == 1.0
    assert quality["gram_distance"] == pytest.approx(0.0, abs=1e-3) and quality["detail_ratio"] == 1.0
    assert quality["border"] == quality["reference_border"] and quality["photo_border"] >= 0
    shifted, blurred = quality["calibration"]["teacher_shifted"], quality["calibration"]["teacher_blurred"]
    assert set(shifted) == set(blurred) == {"structure_psnr", "gram_distance", "detail_ratio", "psnr", "ssim"}
    assert 0 < shifted["gram_distance"] and shifted["psnr"] < 100 and blurred["detail_ratio"] < 0.9
    assert (quality["frames"], quality["size"]) == (3, "72x48")
    raw = quality["against_raw_teacher"]  # the "same" run's frames were made unpadded: the same figures
    assert raw["structure_psnr"] == 100.0 and raw["detail_ratio"] == 1.0 and raw["border"] == raw["teacher_border"]
    assert quality["held_out"] == "../shared/data/content/test (3 evenly spaced, 16:9 centre crop)"

    stored = json.loads((tiny_run["models"] / "rain_princess.json").read_text())
    assert stored == info and stored["source_painting"] == "Rain Princess, Leonid Afremov"
    assert not stored["public_domain"] and "research use only" in stored["licence"]
    assert "models/style-transfer/rain_princess" in stored["teacher"]
    shipped = tiny_run["models"] / "rain_princess.npz"
    assert absolute_paths(stored) == [] and absolute_paths(header(shipped)) == []
    words = shlex.split(stored["recipe"]["command"])
    assert words[words.index("--teacher") + 1] == "tiny.npz" and words[words.index("--out") + 1] == "runs/same/same.npz"
    assert words[words.index("--vgg-weights") + 1] == "vgg19.npz" and words[words.index("--teacher-pad") + 1] == "0"
    meta = load_checkpoint(shipped).meta
    assert meta["recipe"]["out"] == "runs/same/same.npz" and meta["quality"] == quality

    # `mobilestyle styles` shows what was written, the shifted teacher in brackets.
    monkeypatch.setenv("MOBILESTYLE_MODELS", str(tiny_run["models"]))
    monkeypatch.setenv("COLUMNS", "250")
    code, out, _ = run_cli("styles")
    assert code == 0 and "rain_princess" in out
    assert f"structure 100.00 dB ({shifted['structure_psnr']:.2f})" in out
    assert f"texture 0.000 ({shifted['gram_distance']:.3f})" in out and "detail 1.00" in out


def test_ship_without_the_teacher_leaves_out_only_the_shifted_row(tiny_run):
    quality = ship(tiny_run, "other", teacher=False)["quality"]
    assert set(quality["calibration"]) == {"teacher_blurred"}
    assert quality["structure_psnr"] < 100 and quality["gram_distance"] > 0 and quality["photo_border"] >= 0
    assert "teacher_shifted not measured" in quality["measured_by"] and "against_raw_teacher" not in quality
    words = shlex.split(load_checkpoint(tiny_run["models"] / "rain_princess.npz").meta["quality"]["held_out"])
    assert words[0] == "../shared/data/content/test"


def test_ship_with_a_teacher_that_did_not_make_the_frames_is_a_user_error(tiny_run):
    # The "other" run's frames were made on frames padded by 4 px: the teacher is right, the padding would not be
    # if ship_style ignored the recipe's; a different teacher is refused.
    quality = ship(tiny_run, "other", teacher=True)["quality"]
    assert quality["calibration"]["teacher_shifted"]["psnr"] < 100
    # Its targets were padded, the raw teacher is not: the student is compared with other frames there.
    assert quality["against_raw_teacher"]["teacher_border"] != quality["reference_border"]
    wrong = save_checkpoint(random_checkpoint(ArchSpec.parse(TINY), 9), tiny_run["repo"] / "wrong.npz")
    with pytest.raises(ship_style.UserError, match="does not reproduce the run's cached teacher frames"):
        ship_style.ship("rain_princess", tiny_run["same"], tiny_run["vgg"], wrong, models=tiny_run["models"],
                        base=tiny_run["repo"])


def test_rewrite_paths_leaves_the_weights_bit_identical(tmp_path):
    checkpoint = random_checkpoint(ArchSpec.parse(TINY), 5)
    checkpoint.weights["conv1_norm/moving_variance"][0] = 1e5  # beyond float16: stored as float32
    checkpoint.meta = {"style": "muse", "steps": 823, "minutes": 50.04, "final": True, "recipe": OLD_RECIPE,
                       "quality": {"psnr_db": 16.83, "frames": 30,
                                   "held_out": "/work/shared/data/content/bsds500/test (30 evenly spaced, "
                                               "16:9 centre crop)"}}
    models = tmp_path / "models"
    path = save_checkpoint(checkpoint, models / "muse.npz", fp16=True)
    info = {"style": "muse", "recipe": {"command": "mobilestyle distill --teacher /work/x", "steps": 823},
            "quality": checkpoint.meta["quality"]}
    (models / "muse.json").write_text(json.dumps(info))
    before = ship_style.weight_arrays(path)
    assert before["conv1_norm/moving_variance"].dtype == np.float32 and before["conv1/kernel"].dtype == np.float16

    ship_style.rewrite_paths("muse", models=models, base=tmp_path)
    assert ship_style.same_arrays(before, ship_style.weight_arrays(path))
    rewritten = json.loads((models / "muse.json").read_text())
    assert absolute_paths(rewritten) == [] and absolute_paths(header(path)) == []
    assert rewritten["quality"]["held_out"] == "../shared/data/content/bsds500/test (30 evenly spaced, 16:9 centre crop)"
    assert rewritten["recipe"] == {"command": ship_style.command_line(OLD_RECIPE), "steps": 823}
    assert header(path)["meta"]["recipe"]["out"] == "runs/muse/muse.npz"
    assert ship_style.same_arrays(before, before) and not ship_style.same_arrays(
        before, {**before, "conv1/kernel": before["conv1/kernel"].astype(np.float32)})


def test_a_continued_run_records_the_chain_of_runs_it_started_from(tmp_path):
    """`--init FILE.npz`: the metadata names each earlier run's command, steps and minutes, oldest last."""
    def run(name: str, init: str, steps: int) -> Path:
        out = tmp_path / "runs" / name / f"{name}.npz"
        config = DistillConfig(teacher=tmp_path / "teachers" / "tiny", content_dirs=[tmp_path / "photos"], out=out,
                               minutes=2.0, init=init)
        student = random_checkpoint(ArchSpec.parse(TINY), 3)
        student.meta = {"steps": steps, "minutes": 2.0, "recipe": config.recipe(), "final": True}
        return save_checkpoint(student, out, fp16=True)

    first = run("first", "teacher", 10)
    second = run("second", str(first), 20)
    third_recipe = {**load_checkpoint(second).meta["recipe"], "init": str(second)}
    history = ship_style.started_from(third_recipe, base=tmp_path)
    assert history["checkpoint"] == "runs/second/second.npz" and history["steps"] == 20
    assert history["command"] == ship_style.command_line(load_checkpoint(second).meta["recipe"], tmp_path)
    earlier = history["started_from"]
    assert earlier["checkpoint"] == "runs/first/first.npz" and earlier["steps"] == 10
    assert "started_from" not in earlier and "--init teacher" in earlier["command"]
    assert absolute_paths(history) == []
    assert ship_style.started_from(load_checkpoint(first).meta["recipe"], base=tmp_path) is None
    second.unlink()
    assert ship_style.started_from(third_recipe, base=tmp_path) == {"checkpoint": "runs/second/second.npz"}
    shipped_before = {"recipe": {"command": "...", "started_from": history}}
    recorded = ship_style.recorded_links(shipped_before)
    assert set(recorded) == {"runs/second/second.npz", "runs/first/first.npz"}
    assert ship_style.started_from(third_recipe, base=tmp_path, recorded=recorded) == history
    assert ship_style.recorded_links(None) == {} and ship_style.recorded_links({"recipe": {}}) == {}


def test_a_run_that_started_from_the_file_it_replaced_ends_the_chain_there(tmp_path):
    """models/muse.npz continued with `--init models/muse.npz` and shipped back: its recipe names itself."""
    shipped = tmp_path / "models" / "muse.npz"
    config = DistillConfig(teacher=tmp_path / "teachers" / "tiny", content_dirs=[tmp_path / "photos"],
                           out=tmp_path / "runs" / "stable" / "muse.npz", minutes=2.0)
    student = random_checkpoint(ArchSpec.parse(TINY), 3)
    recipe = {**config.recipe(), "init": "models/muse.npz"}  # as the shipped muse's recipe names it
    student.meta = {"steps": 255, "minutes": 2.0, "recipe": recipe, "final": True}
    save_checkpoint(student, shipped, fp16=True)
    later_run = {**recipe, "out": "runs/longer/muse.npz"}
    history = ship_style.started_from(later_run, base=tmp_path, replaced=frozenset({shipped.resolve()}))
    assert history["checkpoint"] == "models/muse.npz" and history["steps"] == 255
    assert history["replaced"] == ship_style.REPLACED_NOTE  # shipping the later run overwrites it
    assert history["started_from"] == {"checkpoint": "models/muse.npz", "replaced": ship_style.REPLACED_NOTE}
    assert "replaced" not in ship_style.started_from(later_run, base=tmp_path)
