"""Distillation: train a small student TransformerNet to reproduce a teacher's stylized frames.

Recipe: the content photos are fitted to camera frames (853x480, cover + centre crop) and the
teacher stylizes each whole frame once (cached in the work folder), so the student learns the
teacher's output as it looks on a full frame (instance norm statistics included). Training takes
random crops (tf.data, stateless per-step seeds, random flips) of frame/target pairs and minimizes
the pixel MSE on a 0..1 scale, which is what PSNR measures; `--vgg-weights` adds a VGG19 feature
term (`--norm-stats fixed`: batch norms keep statistics measured on whole frames before training). The
learning rate follows a cosine from `lr` to 5% of it over the step or time budget. At the end,
the batch-norm statistics are re-estimated on whole training frames (`norm_stats`) when that helps.
`PRESETS` name two sets of option defaults: `scratch` (random init, small crops) and `teacher` (the
teacher's layout cut to 3 blocks, its weights, fixed statistics, whole-height crops: the recipe of the
shipped muse, wave, wreck and udnie).

Outputs beside `--out CKPT`, in the work folder `CKPT-without-suffix.distill/`:
`state.npz` (student weights, optimizer state, step, elapsed time: what `--resume` reads),
`targets.npz` / `eval_targets.npz` (cached content and teacher frames), `grid.png` (content | teacher |
student, refreshed at every evaluation), `curve.csv` (PSNR/SSIM vs step, wall and CPU minutes on a
few held-out frames) and `report.json` (final PSNR/SSIM of student vs teacher on all the held-out
frames at 853x480). PSNR is capped at 100 dB (identical frames).
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import json
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
from PIL import Image
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

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
from mobilestyle.training.crops import crop_batches as random_crop_batches
from mobilestyle.training.state import load_state, save_state
from mobilestyle.training.frames import evenly_spaced, list_photos, load_frames
from mobilestyle.training.norm_stats import recalibrate_batch_norm
from mobilestyle.training.teachers import load_teacher

CURVE_FRAMES = 4
RECALIBRATION_FRAMES = 16
RECALIBRATION_CHECK_FRAMES = 4
LR_FLOOR = 0.05
MAX_PSNR = 100.0
STATE_FORMAT = "mobilestyle.distill-state/1"
FRAME_LOADER = "mobilestyle.images.load_frame"
NORM_STATS_KINDS = ("batch", "fixed")
# Option defaults per `--preset`; `crop_size` None means whole-height crops (the frame's height).
PRESETS = {
    "scratch": {"batch_size": 4, "crop_size": 128, "lr": 1e-3, "init": "random", "norm_stats": "batch"},
    "teacher": {"batch_size": 1, "crop_size": None, "lr": 1e-4, "init": "teacher", "norm_stats": "fixed"},
}


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
    feature_weight: float = 0.1
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
        if self.init not in ("random", "teacher") and not self.init.endswith(".npz"):
            raise UserError(f"--init must be random, teacher or a student checkpoint .npz, got {self.init!r}")
        if self.init.endswith(".npz") and not Path(self.init).is_file():
            raise UserError(f"--init checkpoint {self.init} does not exist")
        if self.norm_stats not in NORM_STATS_KINDS:
            raise UserError(f"--norm-stats must be one of {', '.join(NORM_STATS_KINDS)}, got {self.norm_stats!r}")
        if self.vgg_weights is not None and not Path(self.vgg_weights).is_file():
            raise UserError(f"--vgg-weights {self.vgg_weights} does not exist")

    def recipe(self) -> dict:
        values = {key: (str(value) if isinstance(value, Path) else value) for key, value in asdict(self).items()}
        values["content_dirs"] = [str(path) for path in self.content_dirs]
        values["arch"] = str(self.arch)
        return values


def teacher_layout_student(teacher_arch: ArchSpec, blocks: int = 3) -> ArchSpec:
    """The teacher's layout (upsampling, padding, output, widths) with its first `blocks` blocks and batch norm."""
    blocks = min(blocks, teacher_arch.blocks)
    return dataclasses.replace(teacher_arch, blocks=blocks, block_widths=teacher_arch.block_widths[:blocks],
                               norm="batch")


def preset_config(preset: str, arch: ArchSpec | None = None, **options) -> DistillConfig:
    """A DistillConfig whose preset-controlled options left as None take `PRESETS[preset]`'s values.

    With the `teacher` preset and no `arch`, the student is the teacher's own layout cut to 3 blocks
    (`teacher_layout_student`), so `--init teacher` can copy its stem, first blocks and decoder.
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
        arch = teacher_layout_student(load_teacher(Path(values["teacher"])).arch) if preset == "teacher" else ArchSpec()
    return DistillConfig(arch=arch, **values)


def work_dir(out: Path) -> Path:
    out = Path(out)
    return out.parent / f"{out.name.removesuffix('.npz')}.distill"


def split_content(config: DistillConfig) -> tuple[list[Path], list[Path]]:
    """Training and held-out photos: --eval-dir, or every 10th content photo."""
    photos = list_photos(config.content_dirs)
    if config.eval_dir is not None:
        held_out = list_photos([config.eval_dir])
        train = [p for p in photos if p not in set(held_out)]
    else:
        if len(photos) < 2:
            raise UserError("need at least 2 content photos to hold one out for evaluation (or give --eval-dir)")
        held_out = photos[::10]
        train = [p for i, p in enumerate(photos) if i % 10]
    if not train:
        raise UserError("no training photos left after holding out the evaluation photos")
    if config.train_images:
        train = evenly_spaced(train, config.train_images)
    return train, evenly_spaced(held_out, config.eval_images)


def stylize_frames(model: keras.Model, frames: np.ndarray, progress: Progress | None = None,
                   label: str = "teacher") -> np.ndarray:
    """Run a model over uint8 frames one at a time; uint8 results."""
    task = progress.add_task(label, total=len(frames), info="") if progress else None
    outputs = []
    for image in frames:
        result = model(image[None].astype(np.float32), training=False)[0].numpy()
        outputs.append(np.clip(np.rint(result), 0, 255).astype(np.uint8))
        if progress:
            progress.advance(task)
    if progress:
        progress.remove_task(task)
    return np.stack(outputs)


def _targets_key(teacher: Checkpoint, paths: list[Path], config: DistillConfig) -> str:
    digest = hashlib.sha256()
    for name in sorted(teacher.weights):
        digest.update(name.encode())
        digest.update(np.ascontiguousarray(teacher.weights[name]).tobytes())
    digest.update(json.dumps([FRAME_LOADER, config.frame_width, config.frame_height, *map(str, paths)]).encode())
    return digest.hexdigest()


def teacher_targets(teacher: Checkpoint, paths: list[Path], config: DistillConfig, cache: Path,
                    progress: Progress | None) -> tuple[np.ndarray, np.ndarray]:
    """(content frames, teacher frames) for the photos, cached in `cache` keyed by teacher and photos."""
    key = _targets_key(teacher, paths, config)
    if cache.exists():
        with np.load(cache, allow_pickle=False) as data:
            if str(data["key"]) == key:
                return data["content"], data["target"]
    content = load_frames(paths, config.frame_width, config.frame_height)
    model = teacher.build_model(config.frame_height, config.frame_width)
    target = stylize_frames(model, content, progress)
    with atomic_path(cache) as tmp:
        with open(tmp, "wb") as handle:
            np.savez(handle, key=np.array(key), content=content, target=target)
    return content, target


def crop_batches(content: np.ndarray, target: np.ndarray, config: DistillConfig, start_step: int) -> tf.data.Dataset:
    """Batches of (content crop, teacher crop) float32 pairs; crop n of step s depends only on (seed, s, n)."""
    pairs = np.concatenate([content, target], axis=-1)
    return (random_crop_batches(pairs, config.crop_size, config.batch_size, config.seed, start_step)
            .map(lambda batch: (batch[..., :3], batch[..., 3:])))


def load_vgg_features(path: Path) -> keras.Model:
    """VGG19 conv1_1..conv2_2 from a Keras-layout .npz (`<layer>.kernel` HWIO, `<layer>.bias`); relu2_2 out."""
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {key: data[key] for key in data.files}
    except (OSError, ValueError) as exc:
        raise UserError(f"--vgg-weights {path} is not a readable .npz ({exc})") from None
    layers = ["block1_conv1", "block1_conv2", "block2_conv1", "block2_conv2"]
    missing = [f"{name}.kernel" for name in layers if f"{name}.kernel" not in arrays]
    if missing:
        raise UserError(f"--vgg-weights {path} lacks {', '.join(missing)} (Keras VGG19 layer names)")
    inputs = keras.Input((None, None, 3))
    x = (inputs[..., ::-1] - np.array([103.939, 116.779, 123.68], np.float32))
    for name in layers:
        kernel, bias = arrays[f"{name}.kernel"], arrays[f"{name}.bias"]
        conv = keras.layers.Conv2D(kernel.shape[-1], 3, padding="same", activation="relu", name=name)
        x = conv(x)
        conv.set_weights([kernel, bias])
        if name == "block1_conv2":
            x = keras.layers.MaxPooling2D(2)(x)
    model = keras.Model(inputs, x, name="vgg19_relu2_2")
    model.trainable = False
    return model


def teacher_init(student: keras.Model, teacher: Checkpoint) -> int:
    """Copy teacher weights whose key and shape the student shares (stem, first blocks, norms' affine)."""
    copied = 0
    for layer in student.layers:
        for variable in layer.weights:
            key = f"{layer.name}/{variable.name}"
            value = teacher.weights.get(key)
            if value is not None and tuple(value.shape) == tuple(variable.shape):
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
    identical = np.array_equal(reference, image)
    psnr = MAX_PSNR if identical else min(MAX_PSNR, peak_signal_noise_ratio(reference, image, data_range=255))
    ssim = structural_similarity(reference, image, channel_axis=-1, data_range=255)
    return float(psnr), float(ssim)


def evaluate(model: keras.Model, content: np.ndarray, target: np.ndarray) -> tuple[float, float, np.ndarray]:
    """Mean PSNR and SSIM of the model's frames against the teacher's, and the model's frames."""
    produced = stylize_frames(model, content)
    scores = [psnr_ssim(t, s) for t, s in zip(target, produced)]
    return float(np.mean([s[0] for s in scores])), float(np.mean([s[1] for s in scores])), produced


def write_grid(path: Path, content: np.ndarray, target: np.ndarray, student: np.ndarray, rows: int = 3) -> None:
    """A PNG with one row per frame: content | teacher | student, at half size."""
    strips = [np.concatenate([c, t, s], axis=1) for c, t, s in list(zip(content, target, student))[:rows]]
    image = Image.fromarray(np.concatenate(strips, axis=0))
    image = image.resize((image.width // 2, image.height // 2), Image.Resampling.BILINEAR)
    with atomic_path(path) as tmp:
        image.save(tmp, format="PNG")


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
    helped a scream student (+0.2 dB) and hurt a teacher-initialised muse student (-0.3 dB).
    """
    if not any(isinstance(layer, keras.layers.BatchNormalization) for layer in eval_model.layers):
        return None
    calibration = calibration_indices(len(train_content))
    others = [index for index in range(len(train_content)) if index not in set(calibration)] or calibration
    check = evenly_spaced(others, RECALIBRATION_CHECK_FRAMES)
    check_content, check_target = train_content[check], train_target[check]
    set_model_weights(eval_model, model_weights(student))
    before, _, _ = evaluate(eval_model, check_content, check_target)
    recalibrate_batch_norm(eval_model, train_content[calibration])
    after, _, _ = evaluate(eval_model, check_content, check_target)
    kept = after > before
    if kept:
        set_model_weights(student, model_weights(eval_model))
    console.log(f"batch-norm statistics re-estimated on {len(calibration)} whole training frames: PSNR {before:.2f} -> "
                f"{after:.2f} dB on {len(check_content)} other training frames ({'kept' if kept else 'discarded'})")
    return {"frames": len(calibration), "check_frames": len(check_content), "psnr_before": round(before, 3),
            "psnr_after": round(after, 3), "kept": bool(kept)}


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


def make_train_step(student: keras.Model, optimizer, vgg: keras.Model | None, feature_weight: float,
                    batch_statistics: bool = True):
    """One Adam step; batch norms normalize by the batch (and update their averages) or by their fixed statistics."""
    @tf.function
    def train_step(content, target):
        with tf.GradientTape() as tape:
            produced = student(content, training=batch_statistics)
            loss = tf.reduce_mean(tf.square((produced - target) / 255.0))
            if vgg is not None:
                loss += feature_weight * tf.reduce_mean(tf.square((vgg(produced) - vgg(target)) / 255.0))
        gradients = tape.gradient(loss, student.trainable_variables)
        optimizer.apply(gradients, student.trainable_variables)
        return loss
    return train_step


def distill(config: DistillConfig, console: Console | None = None) -> dict:
    """Train the student; returns the final report (also written to the work folder)."""
    console = console or Console()
    config.validate()
    out = Path(config.out)
    if out.suffix != ".npz":
        raise UserError(f"--out must name a .npz checkpoint, got {out}")
    folder = ensure_writable_dir(work_dir(out))
    teacher = load_teacher(config.teacher)
    train_paths, eval_paths = split_content(config)
    keras.utils.set_random_seed(config.seed)

    columns = [TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.completed:.0f}/{task.total:.0f}"),
               TextColumn("{task.fields[info]}"), TimeElapsedColumn(), TimeRemainingColumn()]
    with Progress(*columns, console=console, transient=True) as progress:
        started = time.monotonic()
        train_content, train_target = teacher_targets(teacher, train_paths, config, folder / "targets.npz", progress)
        eval_content, eval_target = teacher_targets(teacher, eval_paths, config, folder / "eval_targets.npz", progress)
        targets_seconds = time.monotonic() - started
    console.log(f"{len(train_paths)} training frames, {len(eval_paths)} held-out frames "
                f"({config.frame_width}x{config.frame_height}), teacher {teacher.meta.get('teacher', config.teacher)}")

    student = build_transformer_net(config.arch)
    student.build((None, None, None, 3))
    if config.init == "teacher":
        console.log(f"initialised {teacher_init(student, teacher)} student weights from the teacher")
    elif config.init != "random":
        checkpoint_init(student, Path(config.init), config.arch)
        console.log(f"initialised the student from {config.init}")
    optimizer = keras.optimizers.Adam(config.lr)
    optimizer.build(student.trainable_variables)
    step, elapsed, cpu_before, curve = 0, 0.0, 0.0, []
    if config.resume:
        header = load_state(folder / "state.npz", student, optimizer, STATE_FORMAT, config.arch, "distillation")
        step, elapsed, cpu_before, curve = (int(header["step"]), float(header["elapsed"]),
                                            float(header["cpu_seconds"]), list(header["curve"]))
        console.log(f"resumed at step {step} ({elapsed / 60:.1f} min)")
    vgg = load_vgg_features(config.vgg_weights) if config.vgg_weights else None
    train_step = make_train_step(student, optimizer, vgg, config.feature_weight, config.norm_stats == "batch")
    eval_model = build_transformer_net(config.arch, config.frame_height, config.frame_width)
    if config.norm_stats == "fixed" and not config.resume:
        fix_norm_statistics(student, eval_model, train_content, console)
    curve_count = min(CURVE_FRAMES, len(eval_content))

    cpu_started = time.process_time()

    def cpu_seconds() -> float:
        return cpu_before + time.process_time() - cpu_started

    def checkpoint(final: bool = False) -> Path:
        save_state(folder / "state.npz", student, optimizer,
                   {"format": STATE_FORMAT, "step": step, "elapsed": elapsed, "cpu_seconds": cpu_seconds(),
                    "curve": curve, "arch": config.arch.to_dict(), "recipe": config.recipe()})
        meta = {"style": teacher.meta.get("style", "distilled"), "teacher": teacher.meta.get("teacher", str(config.teacher)),
                "steps": step, "minutes": round(elapsed / 60, 2), "recipe": config.recipe(), "final": final}
        return save_checkpoint(Checkpoint.from_model(student, config.arch, meta), out, fp16=config.fp16)

    def measure() -> None:
        set_model_weights(eval_model, model_weights(student))
        psnr, ssim, produced = evaluate(eval_model, eval_content[:curve_count], eval_target[:curve_count])
        curve.append({"step": step, "minutes": round(elapsed / 60, 3), "cpu_minutes": round(cpu_seconds() / 60, 3),
                      "psnr": round(psnr, 3), "ssim": round(ssim, 4)})
        write_grid(folder / "grid.png", eval_content, eval_target, produced)
        with atomic_path(folder / "curve.csv") as tmp:
            with open(tmp, "w", newline="") as handle:
                writer = csv.DictWriter(handle, list(curve[0]))
                writer.writeheader()
                writer.writerows(curve)
        console.log(f"step {step}  {elapsed / 60:.1f} min  held-out PSNR {psnr:.2f} dB  SSIM {ssim:.4f}")

    if not curve:
        measure()
    batches = iter(crop_batches(train_content, train_target, config, step))
    total = config.steps if config.steps is not None else None
    last_eval = last_save = elapsed
    start_step, run_started = step, time.monotonic() - elapsed
    loss_value, train_seconds = float("nan"), 0.0
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("distill", total=total or 60 * config.minutes, info="")
        try:
            while budget_fraction(config, step, elapsed) < 1.0:
                optimizer.learning_rate.assign(cosine_learning_rate(config.lr, budget_fraction(config, step, elapsed)))
                step_started = time.monotonic()
                content, target = next(batches)
                loss_value = float(train_step(content, target))
                train_seconds += time.monotonic() - step_started
                if not math.isfinite(loss_value):
                    raise UserError(f"training diverged at step {step} (loss {loss_value}); lower --lr")
                step += 1
                elapsed = time.monotonic() - run_started
                rate = (step - start_step) / train_seconds
                progress.update(task, completed=step if total else min(elapsed, 60 * config.minutes),
                                info=f"step {step} loss {loss_value:.5f} {rate:.2f} it/s")
                if elapsed - last_eval >= 60 * config.eval_every_minutes:
                    measure()
                    last_eval = elapsed
                if elapsed - last_save >= 60 * config.checkpoint_every_minutes:
                    checkpoint()
                    last_save = elapsed
        except KeyboardInterrupt:
            checkpoint()
            console.log(f"interrupted at step {step}: state saved, continue with --resume")
            raise
    if curve[-1]["step"] != step:
        measure()
    recalibration = recalibrate(student, eval_model, train_content, train_target, console)
    path = checkpoint(final=True)
    set_model_weights(eval_model, model_weights(student))
    psnr, ssim, _ = evaluate(eval_model, eval_content, eval_target)
    trained_steps = step - start_step
    report = {
        "checkpoint": str(path), "teacher": teacher.meta.get("teacher", str(config.teacher)),
        "student_arch": str(config.arch), "steps": step, "minutes": round(elapsed / 60, 2),
        "cpu_minutes": round(cpu_seconds() / 60, 2),
        "steps_per_second": round(trained_steps / train_seconds, 3) if train_seconds else None,
        "teacher_targets_seconds": round(targets_seconds, 1),
        "batch_norm_recalibration": recalibration,
        "final_loss": loss_value,
        "eval": {"frames": len(eval_paths), "size": f"{config.frame_width}x{config.frame_height}",
                 "photos": [str(p) for p in eval_paths], "psnr_db": round(psnr, 3), "ssim": round(ssim, 4)},
        "curve": curve, "recipe": config.recipe(),
    }
    with atomic_path(folder / "report.json") as tmp:
        tmp.write_text(json.dumps(report, indent=2))
    console.log(f"student vs teacher on {len(eval_paths)} held-out frames: PSNR {psnr:.2f} dB, SSIM {ssim:.4f}; "
                f"checkpoint {path}, report {folder / 'report.json'}")
    return report
