"""Distillation: train a small student TransformerNet to look like a teacher's stylized frames.

Data and teacher frames come from `targets.py` (whole 853x480 frames stylized once, the teacher run on
a reflect-padded frame so its targets carry no border bands), the losses from `losses.py`, the held-out
measures, grid and curve from `distill_report.py`. This module holds the options, the student's
initialisation and the training loop.

The loss (each term weighted by an option) compares the student's crop with the teacher's crop:
`pixel` MSE (what PSNR measures; it rewards blur, because a teacher's strokes sit on its stride grid),
`lowpass` MSE after a Gaussian blur (colours and layout), VGG `feature` error (relu2_2 and the
deepest texture layer) and per-image `gram` error (relu1_2/relu2_2/relu3_4: the statistics of
strokes), and total variation `tv`. The learning rate follows a cosine from `lr` to 5% of it over the
step or time budget.

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
from mobilestyle.networks.checkpoint import (
    Checkpoint,
    load_checkpoint,
    model_weights,
    save_checkpoint,
    set_model_weights,
)
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
from mobilestyle.training.frames import evenly_spaced
from mobilestyle.training.losses import content_loss, gram_loss, lowpass_pixel_loss, total_variation_loss
from mobilestyle.training.norm_stats import recalibrate_batch_norm
from mobilestyle.training.state import load_state, save_state
from mobilestyle.training.targets import stylize_frames
from mobilestyle.training.teachers import load_teacher, resize_conv_kernel
from mobilestyle.training.vgg import CONTENT_LAYER, TEXTURE_LAYERS, LossNetwork, load_loss_network

CURVE_FRAMES = 4
RECALIBRATION_FRAMES = 16
RECALIBRATION_CHECK_FRAMES = 4
LR_FLOOR = 0.05
MAX_PSNR = quality.MAX_PSNR
STATE_FORMAT = "mobilestyle.distill-state/1"
NORM_STATS_KINDS = ("batch", "fixed")
ENERGY_EPSILON = 1e-8  # losses.content_loss adds it to the target features' energy
LOSS_TERMS = ("pixel", "lowpass", "feature", "gram", "tv")
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
    tv_weight: float = 0.0
    stability_weight: float = 0.0
    stability_shift: int = 2
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
                raise UserError(f"--{term}-weight must be a finite number >= 0, got {value}")
        if not any(getattr(self, f"{term}_weight") for term in LOSS_TERMS):
            raise UserError("every loss weight is 0: give at least one of --pixel/--lowpass/--feature/--gram/--tv-weight")
        if not self.lowpass_sigma > 0:
            raise UserError(f"--lowpass-sigma must be positive, got {self.lowpass_sigma}")
        if not (self.stability_weight >= 0 and math.isfinite(self.stability_weight)):
            raise UserError(f"--stability-weight must be a finite number >= 0, got {self.stability_weight}")
        if not 1 <= self.stability_shift <= 3:
            raise UserError(f"--stability-shift must be 1, 2 or 3 px (off the stride-4 grid), got {self.stability_shift}")
        if self.stability_noise < 0:
            raise UserError(f"--stability-noise must be >= 0, got {self.stability_noise}")
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
        return bool(self.feature_weight or self.gram_weight)

    def loss_weights(self) -> dict[str, float]:
        return {term: getattr(self, f"{term}_weight") for term in LOSS_TERMS if getattr(self, f"{term}_weight")}

    def recipe(self) -> dict:
        """The options as recorded in checkpoints and reports: machine paths made portable."""
        values = {key: (str(value) if isinstance(value, Path) else value) for key, value in asdict(self).items()}
        values["content_dirs"] = [str(path) for path in self.content_dirs]
        values["arch"] = str(self.arch)
        return portable(values)


def teacher_layout_student(teacher_arch: ArchSpec, blocks: int = 3) -> ArchSpec:
    """The teacher's layout (upsampling, padding, output, widths) with its first `blocks` blocks and batch norm."""
    blocks = min(blocks, teacher_arch.blocks)
    return dataclasses.replace(teacher_arch, blocks=blocks, block_widths=teacher_arch.block_widths[:blocks],
                               norm="batch")


def project_layout_student(teacher_arch: ArchSpec, blocks: int = 3) -> ArchSpec:
    """The project's layout (reflection padding, nearest-resize + conv upsampling: no bands, no checkerboard)
    with the teacher's widths and output head, so that `--init teacher` copies everything but the up convs'
    orientation (converted by `teacher_init`)."""
    return dataclasses.replace(teacher_layout_student(teacher_arch, blocks), padding="reflect", upsample="nearest")


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


def teacher_init(student: keras.Model, teacher: Checkpoint) -> int:
    """Copy teacher weights whose key and shape the student shares (stem, first blocks, norms' affine).

    A teacher's transposed-conv upsampling kernel starts the student's nearest-resize + conv kernel
    as its least-squares stand-in (`resize_conv_kernel`).
    """
    copied = 0
    for layer in student.layers:
        for variable in layer.weights:
            key = f"{layer.name}/{variable.name}"
            value = teacher.weights.get(key)
            if value is None:
                continue
            if value.ndim == 4 and value.shape[:2] == (3, 3) and value.shape[2:] == tuple(variable.shape)[:1:-1] \
                    and layer.name.startswith("up") and value.shape != tuple(variable.shape):
                value = resize_conv_kernel(value)
            if tuple(value.shape) == tuple(variable.shape):
                variable.assign(value)
                copied += 1
    return copied


def checkpoint_init(student: keras.Model, path: Path, arch: ArchSpec) -> None:
    """Start from a trained student of the same architecture (another style's: a head start on features)."""
    source = load_checkpoint(path)
    if source.arch != arch:
        raise UserError(f"--init {path} is a {source.arch} net, the student is {arch}")
    set_model_weights(student, source.weights)


def psnr_ssim(reference: np.ndarray, image: np.ndarray) -> tuple[float, float]:
    return quality.psnr(reference, image), quality.ssim(reference, image)


def evaluate(model: keras.Model, content: np.ndarray, target: np.ndarray) -> tuple[float, float, np.ndarray]:
    """Mean PSNR and SSIM of the model's frames against the teacher's, and the model's frames."""
    produced = stylize_frames(model, content)
    scores = [psnr_ssim(t, s) for t, s in zip(target, produced)]
    return float(np.mean([s[0] for s in scores])), float(np.mean([s[1] for s in scores])), produced


def structure_score(model: keras.Model, content: np.ndarray, target: np.ndarray) -> float:
    produced = stylize_frames(model, content)
    return float(np.mean([quality.structure_psnr(t, s) for t, s in zip(target, produced)]))


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


def calibration_indices(frame_count: int) -> list[int]:
    """The training frames whose whole-frame statistics set the batch norms (evenly spaced)."""
    return evenly_spaced(list(range(frame_count)), RECALIBRATION_FRAMES)


def recalibrate(student: keras.Model, eval_model: keras.Model, train_content: np.ndarray, train_target: np.ndarray,
                console: Console) -> dict | None:
    """Re-estimate the student's batch-norm statistics on whole training frames (see norm_stats).

    Kept only when it brings the student closer to the teacher on a few other training frames: it
    helped a scream student (+0.2 dB PSNR) and hurt a teacher-initialised muse student (-0.3 dB). Judged by
    structure PSNR (blur sigma 3), which sees colours and layout but not where strokes sit.
    """
    if not any(isinstance(layer, keras.layers.BatchNormalization) for layer in eval_model.layers):
        return None
    calibration = calibration_indices(len(train_content))
    others = [index for index in range(len(train_content)) if index not in set(calibration)] or calibration
    check = evenly_spaced(others, RECALIBRATION_CHECK_FRAMES)
    check_content, check_target = train_content[check], train_target[check]
    set_model_weights(eval_model, model_weights(student))
    before = structure_score(eval_model, check_content, check_target)
    recalibrate_batch_norm(eval_model, train_content[calibration])
    after = structure_score(eval_model, check_content, check_target)
    kept = after > before
    if kept:
        set_model_weights(student, model_weights(eval_model))
    console.log(f"batch-norm statistics re-estimated on {len(calibration)} whole training frames: structure PSNR {before:.2f} -> "
                f"{after:.2f} dB on {len(check_content)} other training frames ({'kept' if kept else 'discarded'})")
    return {"frames": len(calibration), "check_frames": len(check_content), "structure_psnr_before": round(before, 3),
            "structure_psnr_after": round(after, 3), "kept": bool(kept)}


def fix_norm_statistics(student: keras.Model, eval_model: keras.Model, frames: np.ndarray, console: Console) -> None:
    """`--norm-stats fixed`: measure the batch norms' statistics on whole training frames before training.

    Training then keeps them (norms in inference mode), so the student learns exactly the function it
    deploys; for a teacher-initialised la_muse student this beat crop training with batch statistics
    (`benchmarks/distill.md`, student ceiling).
    """
    set_model_weights(eval_model, model_weights(student))
    count = recalibrate_batch_norm(eval_model, frames[calibration_indices(len(frames))])
    set_model_weights(student, model_weights(eval_model))
    if count:
        console.log(f"batch-norm statistics of {count} layers measured on whole training frames, fixed for training")


def make_train_step(student: keras.Model, optimizer, loss_net: LossNetwork | None, config: DistillConfig,
                    batch_statistics: bool = True, distribution: Distribution | None = None):
    """One Adam step on a global batch of (content, teacher) crops; returns the weighted total and the terms.

    The losses (the loss network's passes, most of the work) are XLA clusters; the student runs
    outside them, because XLA on CPU has no kernel for the gradient of nearest-neighbour resizing.
    Batch norms normalize by the batch (and update their averages) or by their fixed statistics. On R
    replicas each computes the loss of its crops with the feature errors normalised by the global
    batch's feature energy (an all-reduce) and backpropagates 1/R of it; the optimizer sums the
    replicas' gradients: the gradient of the global batch's loss.
    """
    strategy = distribution.strategy if distribution else tf.distribute.get_strategy()
    replicas = strategy.num_replicas_in_sync
    mean = tf.distribute.ReduceOp.MEAN
    weights = config.loss_weights()
    feature_layers = tuple(dict.fromkeys((CONTENT_LAYER, loss_net.style_layers[-1]))) if loss_net else ()

    @tf.function(jit_compile=True)
    def target_features_and_energy(target):
        features = loss_net(target)
        return features, {layer: tf.reduce_mean(tf.square(features[layer])) for layer in feature_layers}

    @tf.function(jit_compile=True)
    def loss_and_gradient(produced, target, target_features, feature_scales):
        with tf.GradientTape() as tape:
            tape.watch(produced)
            terms = {}
            if "pixel" in weights:
                terms["pixel"] = tf.reduce_mean(tf.square((produced - target) / 255.0))
            if "lowpass" in weights:
                terms["lowpass"] = lowpass_pixel_loss(produced, target, config.lowpass_sigma)
            if loss_net is not None:
                features = loss_net(produced)
                if "feature" in weights:  # losses.feature_loss, each layer normalised by the global batch's energy
                    terms["feature"] = tf.add_n([content_loss(features, target_features, layer) * feature_scales[layer]
                                                 for layer in feature_layers])
                if "gram" in weights:
                    terms["gram"] = gram_loss(features, target_features, loss_net.style_layers)
            if "tv" in weights:
                terms["tv"] = total_variation_loss(produced)
            total = tf.add_n([weights[name] * value for name, value in terms.items()])
            share = total / replicas
        return total, terms, tape.gradient(share, produced)

    shift = config.stability_shift

    def stability_loss(content, produced, step):
        """The student's output for its input moved by `shift` px (plus a little noise) should be its output
        moved the same way: strokes that follow the picture, not the stride grid, do not crawl on video."""
        size = tf.shape(content)[1] - 4
        moved = content[:, shift:shift + size, shift:shift + size]
        noise = tf.random.stateless_normal(tf.shape(moved), tf.stack([tf.cast(config.seed, tf.int64), step]))
        moved_output = student(tf.clip_by_value(moved + config.stability_noise * noise, 0.0, 255.0),
                               training=batch_statistics)
        return tf.reduce_mean(tf.square((moved_output - produced[:, shift:shift + size, shift:shift + size]) / 255.0))

    def replica_step(content, target):
        context = tf.distribute.get_replica_context()
        target_features, feature_scales = None, None
        if loss_net is not None:
            target_features, energies = target_features_and_energy(target)
            feature_scales = {layer: (energy + ENERGY_EPSILON) / (context.all_reduce(mean, energy) + ENERGY_EPSILON)
                              for layer, energy in energies.items()}
        with tf.GradientTape(persistent=config.stability_weight > 0) as tape:
            produced = student(content, training=batch_statistics)
            if config.stability_weight:
                noise_index = tf.cast(optimizer.iterations, tf.int64) * replicas + tf.cast(
                    context.replica_id_in_sync_group, tf.int64)
                stability = stability_loss(content, produced, noise_index)
                # Inside the tape: a product taken after it closes would have no gradient.
                stability_share = config.stability_weight * stability / replicas
        total, terms, produced_gradient = loss_and_gradient(produced, target, target_features, feature_scales)
        gradients = tape.gradient(produced, student.trainable_variables, output_gradients=produced_gradient)
        if config.stability_weight:
            extra = tape.gradient(stability_share, student.trainable_variables)
            gradients = [g if e is None else g + e for g, e in zip(gradients, extra)]
            total += config.stability_weight * stability
            terms = {**terms, "stability": stability}
        optimizer.apply(gradients, student.trainable_variables)
        return total, terms

    @tf.function
    def train_step(content, target):
        total, terms = strategy.run(replica_step, args=(content, target))
        return (strategy.reduce(mean, total, axis=None),
                {key: strategy.reduce(mean, value, axis=None) for key, value in terms.items()})

    return train_step


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
    console.log(f"{len(train_paths)} training frames, {len(eval_paths)} held-out frames "
                f"({config.frame_width}x{config.frame_height}), teacher {teacher.meta.get('teacher', config.teacher)}, "
                f"losses {', '.join(f'{name} x{weight:g}' for name, weight in config.loss_weights().items())}")

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
        console.log(f"step {step}  {elapsed / 60:.1f} min  held-out structure {scores['structure_psnr']:.2f} dB{gram}  "
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
                 "photos": [p.name for p in eval_paths], "loss_network": loss_net.describe() if loss_net else None,
                 **scores, "psnr_db": scores["psnr"]},
        "curve": curve, "recipe": config.recipe(),
    }
    with atomic_path(folder / "report.json") as tmp:
        tmp.write_text(json.dumps(report, indent=2))
    console.log(f"student vs teacher on {len(eval_paths)} held-out frames: structure {scores['structure_psnr']:.2f} dB, "
                f"Gram {scores['gram_distance']}, detail {scores['detail_ratio']:.2f}, PSNR {scores['psnr']:.2f} dB, "
                f"SSIM {scores['ssim']:.4f}; checkpoint {path}, report {folder / 'report.json'}")
    return report
