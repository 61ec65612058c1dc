"""Distillation: train a small student TransformerNet to look like a teacher's stylized frames.

Data and teacher frames come from `targets.py` (whole 853x480 frames stylized once, the teacher run on
a reflect-padded frame so its targets carry no border bands), the losses from `losses.py`, the held-out
measures, grid and curve from `distill_report.py`, the train step from `distill_step.py`, the student's
layout and starting weights from `student_init.py`, its batch-norm statistics from `norm_stats.py`.
This module holds the options, the presets and the training loop.

The loss (each term weighted by an option) compares the student's crop with the teacher's crop:
`pixel` MSE (what PSNR measures; it rewards blur, because a teacher's strokes sit on its stride grid),
`lowpass` MSE after a Gaussian blur (colours and layout), VGG `feature` error (relu2_2 and the
deepest texture layer) and per-image `gram` error (relu1_2/relu2_2/relu3_4: the statistics of
strokes), total variation `tv`, and `stability` (see `stability.py`). The learning rate follows a cosine
from `lr` to 5% of it over the step or time budget.

Devices (`--strategy`, see `distribute.py`): `--batch-size` is the global batch, split across the
replicas; feature errors are normalised by the global batch's feature energy and batch norms in
training mode use the global batch's statistics, so R replicas train what one device would. Only the
chief writes files; a time budget runs on the chief's clock.

`PRESETS` name sets of option defaults: `perceptual` (the default: the project's layout with
reflection padding and nearest-resize upsampling, the teacher's output head, started from the
teacher's weights, batch-norm statistics fixed, perceptual losses), `teacher` and `scratch` (the
earlier pixel-loss recipes of the shipped students before it).

Outputs beside `--out CKPT`, in the work folder `CKPT-without-suffix.distill/`: `state.npz` (what
`--resume` reads), `targets.npz` / `eval_targets.npz` (cached frames), `grid.png`, `curve.csv` /
`curve.png` (held-out measures against CPU minutes) and `report.json` (final measures on all
held-out frames at 853x480).
"""

from __future__ import annotations

import dataclasses
import json
import math
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from mobilestyle import frame
from mobilestyle.errors import UserError
from mobilestyle.files import atomic_path, ensure_writable_dir
from mobilestyle.networks.arch import ArchSpec
from mobilestyle.networks.checkpoint import Checkpoint, model_weights, save_checkpoint, set_model_weights
from mobilestyle.networks.transformer_net import build_transformer_net
from mobilestyle.portable_paths import portable
from mobilestyle.training import distill_report, quality, targets
from mobilestyle.training.distribute import (
    Distribution,
    broadcast_from_chief,
    chief_number,
    chief_value,
    cluster_errors,
    distribute_batches,
    make_distribution,
    per_replica_batch,
    stopped_at,
    sync_batch_norm,
)
from mobilestyle.training.distill_step import make_train_step
from mobilestyle.training.norm_stats import fix_norm_statistics, recalibrate
from mobilestyle.training.stability import RANDOM_SHIFT, describe_shift, validate_stability
from mobilestyle.training.state import load_state, save_state
from mobilestyle.training.student_init import (
    checkpoint_init,
    project_layout_student,
    teacher_init,
    teacher_layout_student,
)
from mobilestyle.training.targets import stylize_frames
from mobilestyle.training.teachers import load_teacher
from mobilestyle.training.vgg import TEXTURE_LAYERS, load_loss_network

CURVE_FRAMES = 4
LR_FLOOR = 0.05
STATE_FORMAT = "mobilestyle.distill-state/1"
NORM_STATS_KINDS = ("batch", "fixed")
LOSS_TERMS = ("pixel", "lowpass", "feature", "gram", "coarse_gram", "tv")
COARSE_GRAM_SHRINKS = (2, 4, 8)
COARSE_GRAM_MIN_SIDE = 16  # px of a shrunk crop: 4x4 feature maps at relu3_4
_PIXEL_ONLY = {"pixel_weight": 1.0, "lowpass_weight": 0.0, "feature_weight": 0.0, "gram_weight": 0.0,
               "tv_weight": 0.0, "stability_weight": 0.0}
# Option defaults per `--preset`; `crop_size` None means whole-height crops (the frame's height).
PRESETS = {
    "perceptual": {"batch_size": 2, "crop_size": 256, "lr": 3e-4, "init": "teacher", "norm_stats": "fixed",
                   "pixel_weight": 0.0, "lowpass_weight": 100.0, "feature_weight": 0.5, "gram_weight": 10.0,
                   "tv_weight": 0.0, "stability_weight": 100.0},
    "scratch": {"batch_size": 4, "crop_size": 128, "lr": 1e-3, "init": "random", "norm_stats": "batch",
                **_PIXEL_ONLY},
    "teacher": {"batch_size": 1, "crop_size": None, "lr": 1e-4, "init": "teacher", "norm_stats": "fixed",
                **_PIXEL_ONLY},
}
DEFAULT_PRESET = "perceptual"


@dataclass
class DistillConfig:
    teacher: Path
    content_dirs: list[Path]
    out: Path
    arch: ArchSpec = field(default_factory=ArchSpec)
    steps: int | None = None
    minutes: float | None = None
    batch_size: int = 4
    crop_size: int = 128
    lr: float = 1e-3
    seed: int = 0
    eval_dir: Path | None = None
    eval_images: int = 24
    train_images: int = 0
    vgg_weights: Path | None = None
    pixel_weight: float = 1.0
    lowpass_weight: float = 0.0
    lowpass_sigma: float = 2.0
    feature_weight: float = 0.0
    gram_weight: float = 0.0
    coarse_gram_weight: float = 0.0
    coarse_gram_shrink: int = 4
    tv_weight: float = 0.0
    stability_weight: float = 0.0
    stability_shift: int | str = RANDOM_SHIFT  # or a fixed 1-3 px
    stability_noise: float = 2.0
    teacher_pad: int = targets.TEACHER_PAD
    init: str = "random"
    norm_stats: str = "batch"
    eval_every_minutes: float = 3.0
    checkpoint_every_minutes: float = 5.0
    frame_width: int = frame.INPUT_WIDTH
    frame_height: int = frame.INPUT_HEIGHT
    resume: bool = False
    fp16: bool = False

    def validate(self) -> None:
        if self.steps is None and self.minutes is None:
            raise UserError("give a budget: --steps and/or --minutes")
        if self.steps is not None and self.steps < 1:
            raise UserError(f"--steps must be at least 1, got {self.steps}")
        if self.minutes is not None and self.minutes <= 0:
            raise UserError(f"--minutes must be positive, got {self.minutes}")
        if self.batch_size < 1:
            raise UserError(f"--batch-size must be at least 1, got {self.batch_size}")
        if self.crop_size < 16 or self.crop_size % 4:
            raise UserError(f"--crop-size must be a multiple of 4 and at least 16, got {self.crop_size}")
        if self.crop_size > min(self.frame_width, self.frame_height):
            raise UserError(f"--crop-size {self.crop_size} is larger than the "
                            f"{self.frame_width}x{self.frame_height} frames")
        if not self.lr > 0:
            raise UserError(f"--lr must be positive, got {self.lr}")
        for term in LOSS_TERMS:
            value = getattr(self, f"{term}_weight")
            if not (value >= 0 and math.isfinite(value)):
                raise UserError(f"--{term.replace('_', '-')}-weight must be a finite number >= 0, got {value}")
        if not any(getattr(self, f"{term}_weight") for term in LOSS_TERMS):
            raise UserError("every loss weight is 0: give at least one of "
                            "--pixel/--lowpass/--feature/--gram/--coarse-gram/--tv-weight")
        if self.coarse_gram_shrink not in COARSE_GRAM_SHRINKS:
            raise UserError(f"--coarse-gram-shrink must be one of {', '.join(map(str, COARSE_GRAM_SHRINKS))}, "
                            f"got {self.coarse_gram_shrink}")
        if self.coarse_gram_weight and self.crop_size // self.coarse_gram_shrink < COARSE_GRAM_MIN_SIDE:
            raise UserError(f"--crop-size {self.crop_size} shrunk {self.coarse_gram_shrink}x leaves under "
                            f"{COARSE_GRAM_MIN_SIDE} px for the coarse Gram loss")
        if not self.lowpass_sigma > 0:
            raise UserError(f"--lowpass-sigma must be positive, got {self.lowpass_sigma}")
        validate_stability(self.stability_weight, self.stability_shift, self.stability_noise)
        if self.teacher_pad < 0 or self.teacher_pad % 4:
            raise UserError(f"--teacher-pad must be a multiple of 4 and >= 0, got {self.teacher_pad}")
        if self.init not in ("random", "teacher") and not self.init.endswith(".npz"):
            raise UserError(f"--init must be random, teacher or a student checkpoint .npz, got {self.init!r}")
        if self.init.endswith(".npz") and not Path(self.init).is_file():
            raise UserError(f"--init checkpoint {self.init} does not exist")
        if self.norm_stats not in NORM_STATS_KINDS:
            raise UserError(f"--norm-stats must be one of {', '.join(NORM_STATS_KINDS)}, got {self.norm_stats!r}")
        if self.vgg_weights is not None and not Path(self.vgg_weights).is_file():
            raise UserError(f"--vgg-weights {self.vgg_weights} does not exist")

    @property
    def needs_vgg(self) -> bool:
        return bool(self.feature_weight or self.gram_weight or self.coarse_gram_weight)

    def loss_weights(self) -> dict[str, float]:
        return {term: getattr(self, f"{term}_weight") for term in LOSS_TERMS if getattr(self, f"{term}_weight")}

    def recipe(self) -> dict:
        """The options as recorded in checkpoints and reports: machine paths made portable."""
        values = {key: (str(value) if isinstance(value, Path) else value) for key, value in asdict(self).items()}
        values["content_dirs"] = [str(path) for path in self.content_dirs]
        values["arch"] = str(self.arch)
        return portable(values)


def preset_config(preset: str, arch: ArchSpec | None = None, **options) -> DistillConfig:
    """A DistillConfig whose preset-controlled options left as None take `PRESETS[preset]`'s values.

    With no `arch`, the `teacher` preset's student is the teacher's own layout cut to 3 blocks
    (`teacher_layout_student`), the `perceptual` preset's the project's layout with the teacher's
    widths and head (`project_layout_student`), the `scratch` preset's the default net.
    """
    if preset not in PRESETS:
        raise UserError(f"--preset must be one of {', '.join(PRESETS)}, got {preset!r}")
    values = {key: value for key, value in options.items() if value is not None}
    for key, default in PRESETS[preset].items():
        values.setdefault(key, default)
    if values["crop_size"] is None:
        values["crop_size"] = min(values.get("frame_width", frame.INPUT_WIDTH),
                                  values.get("frame_height", frame.INPUT_HEIGHT))
    if arch is None:
        if preset == "scratch":
            arch = ArchSpec()
        else:
            layout = teacher_layout_student if preset == "teacher" else project_layout_student
            arch = layout(load_teacher(Path(values["teacher"])).arch)
    return DistillConfig(arch=arch, **values)


def work_dir(out: Path) -> Path:
    out = Path(out)
    return out.parent / f"{out.name.removesuffix('.npz')}.distill"


def split_content(config: DistillConfig) -> tuple[list[Path], list[Path]]:
    """Training and held-out photos for `config` (see `targets.split_content`)."""
    return targets.split_content(config.content_dirs, config.eval_dir, config.train_images, config.eval_images)


def teacher_targets(teacher: Checkpoint, paths: list[Path], config: DistillConfig, cache: Path,
                    progress: Progress | None) -> tuple[np.ndarray, np.ndarray]:
    """(content frames, teacher frames) at the config's frame size (see `targets.teacher_targets`)."""
    return targets.teacher_targets(teacher, paths, config.frame_width, config.frame_height, cache, progress,
                                   pad=config.teacher_pad)


def crop_batches(content: np.ndarray, target: np.ndarray, config: DistillConfig, start_step: int) -> tf.data.Dataset:
    return targets.pair_batches(content, target, config.crop_size, config.batch_size, config.seed, start_step)


def psnr_ssim(reference: np.ndarray, image: np.ndarray) -> tuple[float, float]:
    return quality.psnr(reference, image), quality.ssim(reference, image)


def evaluate(model: keras.Model, content: np.ndarray, target: np.ndarray) -> tuple[float, float, np.ndarray]:
    """Mean PSNR and SSIM of the model's frames against the teacher's, and the model's frames."""
    produced = stylize_frames(model, content)
    scores = [psnr_ssim(t, s) for t, s in zip(target, produced)]
    return float(np.mean([s[0] for s in scores])), float(np.mean([s[1] for s in scores])), produced


def budget_fraction(config: DistillConfig, step: int, elapsed: float) -> float:
    fractions = []
    if config.steps is not None:
        fractions.append(step / config.steps)
    if config.minutes is not None:
        fractions.append(elapsed / (60 * config.minutes))
    return min(1.0, max(fractions))


def cosine_learning_rate(peak: float, fraction: float) -> float:
    """`peak` at the start, falling on a cosine to LR_FLOOR * peak at the end of the budget."""
    return peak * (LR_FLOOR + (1 - LR_FLOOR) * 0.5 * (1 + math.cos(math.pi * fraction)))


def distill(config: DistillConfig, console: Console | None = None, distribution: Distribution | None = None) -> dict:
    """Train the student; returns the final report (also written to the work folder).

    `distribution` (`distribute.make_distribution`, made before TensorFlow starts) defaults to the
    `auto` strategy. A worker that is not the chief writes nothing and returns a short summary.
    """
    console = console or Console()
    config.validate()
    distribution = distribution or make_distribution()
    per_replica_batch(config.batch_size, distribution.replicas)
    chief = distribution.is_chief
    out = Path(config.out)
    if out.suffix != ".npz":
        raise UserError(f"--out must name a .npz checkpoint, got {out}")
    folder = ensure_writable_dir(work_dir(out)) if chief else work_dir(out)
    # The other workers cache the teacher's frames in a folder of their own, removed with this object.
    scratch = None if chief else tempfile.TemporaryDirectory(prefix="mobilestyle-worker-")
    cache = folder if chief else Path(scratch.name)
    teacher = load_teacher(config.teacher)
    train_paths, eval_paths = split_content(config)
    with distribution.strategy.scope():
        loss_net = (load_loss_network(config.vgg_weights, TEXTURE_LAYERS) if (config.needs_vgg or config.vgg_weights)
                    else None)
    keras.utils.set_random_seed(config.seed)

    columns = [TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.completed:.0f}/{task.total:.0f}"),
               TextColumn("{task.fields[info]}"), TimeElapsedColumn(), TimeRemainingColumn()]
    with Progress(*columns, console=console, transient=True) as progress:
        started = time.monotonic()
        train_content, train_target = teacher_targets(teacher, train_paths, config, cache / "targets.npz", progress)
        eval_content, eval_target = teacher_targets(teacher, eval_paths, config, cache / "eval_targets.npz", progress)
        targets_seconds = time.monotonic() - started
    overlap = targets.trained_on(train_paths, eval_paths)
    eval_name = "evaluation" if overlap else "held-out"
    eval_words = f"{eval_name} frames" + (f" ({overlap} of them training photos too)" if overlap else "")
    console.log(f"{len(train_paths)} training frames, {len(eval_paths)} {eval_words} "
                f"({config.frame_width}x{config.frame_height}), teacher {teacher.meta.get('teacher', config.teacher)}, "
                f"losses {', '.join(f'{name} x{weight:g}' for name, weight in config.loss_weights().items())}"
                + (f", stability x{config.stability_weight:g} (shift {describe_shift(config.stability_shift)}, "
                   f"noise {config.stability_noise:g})" if config.stability_weight else ""))

    with distribution.strategy.scope():
        student = build_transformer_net(config.arch)
        student.build((None, None, None, 3))
        optimizer = keras.optimizers.Adam(config.lr)
        optimizer.build(student.trainable_variables)
    if config.norm_stats == "batch":
        sync_batch_norm(student, distribution)
    if config.init == "teacher":
        console.log(f"initialised {teacher_init(student, teacher)} student weights from the teacher")
    elif config.init != "random":
        checkpoint_init(student, Path(config.init), config.arch)
        console.log(f"initialised the student from {config.init}")
    step, elapsed, cpu_before, curve = 0, 0.0, 0.0, []
    if config.resume and chief:
        header = load_state(folder / "state.npz", student, optimizer, STATE_FORMAT, config.arch, "distillation")
        step, elapsed, cpu_before, curve = (int(header["step"]), float(header["elapsed"]),
                                            float(header["cpu_seconds"]), list(header["curve"]))
        console.log(f"resumed at step {step} ({elapsed / 60:.1f} min)")
    train_step = make_train_step(student, optimizer, loss_net if config.needs_vgg else None, config,
                                 config.norm_stats == "batch", distribution)
    eval_model = build_transformer_net(config.arch, config.frame_height, config.frame_width)
    if config.norm_stats == "fixed" and not config.resume and not config.init.endswith(".npz"):
        # A student checkpoint's statistics are those its weights were trained with: measuring them
        # anew moved the shipped muse from 20.1 to 14.4 dB structure on the curve frames.
        fix_norm_statistics(student, eval_model, train_content, console)
    with cluster_errors(distribution, lambda: "before its first step"):
        broadcast_from_chief(distribution, [*student.weights, *optimizer.variables])
        step = int(chief_number(distribution, step))
    if distribution.replicas > 1:
        console.log(f"training on {distribution.describe()}, global batch {config.batch_size}")
    curve_count = min(CURVE_FRAMES, len(eval_content))
    title = f"{teacher.meta.get('style', 'student')}: {config.arch}"

    cpu_started = time.process_time()

    def cpu_seconds() -> float:
        return cpu_before + time.process_time() - cpu_started

    def checkpoint(final: bool = False) -> Path:
        save_state(folder / "state.npz", student, optimizer,
                   {"format": STATE_FORMAT, "step": step, "elapsed": elapsed, "cpu_seconds": cpu_seconds(),
                    "curve": curve, "arch": config.arch.to_dict(), "recipe": config.recipe()})
        meta = {"style": teacher.meta.get("style", "distilled"),
                "teacher": portable(teacher.meta.get("teacher", str(config.teacher))),
                "steps": step, "minutes": round(elapsed / 60, 2), "recipe": config.recipe(), "final": final}
        return save_checkpoint(Checkpoint.from_model(student, config.arch, meta), out, fp16=config.fp16)

    def measure() -> None:
        set_model_weights(eval_model, model_weights(student))
        scores, produced = distill_report.measure(eval_model, eval_content[:curve_count], eval_target[:curve_count],
                                                  loss_net)
        curve.append({"step": step, "minutes": round(elapsed / 60, 3), "cpu_minutes": round(cpu_seconds() / 60, 3),
                      **scores})
        distill_report.write_grid(folder / "grid.png", eval_content, eval_target, produced)
        distill_report.write_curve(folder, curve, title)
        gram = f"  Gram {scores['gram_distance']:.3f}" if scores["gram_distance"] is not None else ""
        console.log(f"step {step}  {elapsed / 60:.1f} min  {eval_name} structure {scores['structure_psnr']:.2f} dB"
                    f"{gram}  "
                    f"detail {scores['detail_ratio']:.2f}  border {scores['border']:.1f}  PSNR {scores['psnr']:.2f} dB")

    if not curve and chief:
        measure()

    def make_batches(size: int, first: int) -> tf.data.Dataset:
        return crop_batches(train_content, train_target, dataclasses.replace(config, batch_size=size), first)

    batches = distribute_batches(distribution, make_batches, config.batch_size, step)
    agree = chief_value(distribution) if config.minutes is not None else (lambda value: value)
    total = config.steps if config.steps is not None else None
    last_eval = last_save = elapsed
    start_step, run_started = step, time.monotonic() - elapsed
    loss_value, train_seconds = float("nan"), 0.0
    saved_step = step if config.resume else None

    def where() -> str:
        return stopped_at(chief, step, saved_step)

    with Progress(*columns, console=console) as progress, cluster_errors(distribution, where):
        task = progress.add_task("distill", total=total or 60 * config.minutes, info="")
        try:
            while budget_fraction(config, step, elapsed) < 1.0:
                optimizer.learning_rate.assign(cosine_learning_rate(config.lr, budget_fraction(config, step, elapsed)))
                step_started = time.monotonic()
                content, target = next(batches)
                loss, _ = train_step(content, target)
                loss_value = float(loss)
                train_seconds += time.monotonic() - step_started
                if not math.isfinite(loss_value):
                    raise UserError(f"training diverged at step {step} (loss {loss_value}); lower --lr")
                step += 1
                elapsed = agree(time.monotonic() - run_started)
                rate = (step - start_step) / train_seconds
                progress.update(task, completed=step if total else min(elapsed, 60 * config.minutes),
                                info=f"step {step} loss {loss_value:.5f} {rate:.2f} steps/s "
                                     f"{rate * config.batch_size:.1f} img/s")
                if chief and elapsed - last_eval >= 60 * config.eval_every_minutes:
                    measure()
                    last_eval = elapsed
                if chief and elapsed - last_save >= 60 * config.checkpoint_every_minutes:
                    checkpoint()
                    last_save, saved_step = elapsed, step
        except KeyboardInterrupt:
            if chief:
                checkpoint()
                console.log(f"interrupted at step {step}: state saved, continue with --resume")
            raise
    trained_steps = step - start_step
    speed = {"strategy": distribution.kind, "replicas": distribution.replicas, "workers": distribution.workers,
             "global_batch": config.batch_size,
             "steps_per_second": round(trained_steps / train_seconds, 3) if train_seconds else None,
             "images_per_second": round(trained_steps * config.batch_size / train_seconds, 2) if train_seconds else None}
    if not chief:
        scratch.cleanup()
        console.log(f"{distribution.task}: finished at step {step}; the chief writes the checkpoint and report")
        return {"steps": step, "chief": False, **speed}
    if curve[-1]["step"] != step:
        measure()
    recalibration = recalibrate(student, eval_model, train_content, train_target, console)
    path = checkpoint(final=True)
    set_model_weights(eval_model, model_weights(student))
    scores, _ = distill_report.measure(eval_model, eval_content, eval_target, loss_net)
    report = {
        "checkpoint": path.name, "teacher": portable(teacher.meta.get("teacher", str(config.teacher))),
        "student_arch": str(config.arch), "steps": step, "minutes": round(elapsed / 60, 2),
        "cpu_minutes": round(cpu_seconds() / 60, 2), **speed,
        "teacher_targets_seconds": round(targets_seconds, 1),
        "batch_norm_recalibration": recalibration,
        "final_loss": loss_value,
        "eval": {"frames": len(eval_paths), "size": f"{config.frame_width}x{config.frame_height}",
                 "photos": [p.name for p in eval_paths], "training_photos_among_them": overlap,
                 "loss_network": loss_net.describe() if loss_net else None,
                 **scores, "psnr_db": scores["psnr"]},
        "curve": curve, "recipe": config.recipe(),
    }
    with atomic_path(folder / "report.json") as tmp:
        tmp.write_text(json.dumps(report, indent=2))
    console.log(f"student vs teacher on {len(eval_paths)} {eval_words}: structure {scores['structure_psnr']:.2f} dB, "
                f"Gram {scores['gram_distance']}, detail {scores['detail_ratio']:.2f}, PSNR {scores['psnr']:.2f} dB, "
                f"SSIM {scores['ssim']:.4f}; checkpoint {path}, report {folder / 'report.json'}")
    return report
