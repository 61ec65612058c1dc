"""Perceptual-loss training (Johnson et al.): teach a TransformerNet one painting's style.

Recipe: content photos are fitted (cover + centre crop) to squares 1.25x the crop side and kept in
memory; every step takes a batch of random crops with random flips (tf.data, stateless seeds, so
crop n of step s depends only on (seed, s, n) and a resumed run sees the crops it would have seen).
The loss network (see `vgg.py`) gives the content loss at relu2_2, Gram style losses at
relu1_2/relu2_2/relu3_3 and relu4_3 where the network reaches it, plus a total-variation term
(see `losses.py` for the normalisation) and, with `--stability-weight`, distill's stability term
(`stability.py`). Adam, constant learning rate.

Devices (`--strategy`, see `distribute.py`): `--batch-size` is the global batch, split across the
replicas; the content loss is normalised by the global batch's feature energy and batch norms use
the global batch's statistics, so R replicas train the same function as one device. Only the chief
writes files.

Outputs: the checkpoint `--out CKPT.npz` and a work folder beside it, `CKPT.train/`:
`state.npz` (weights, optimizer state, step, elapsed time, loss curve: what `--resume` reads;
written atomically), `grid.png` (painting | photos | stylized), `curve.png` and `report.json`
(steps, minutes, steps/s, loss curve, Gram distance to the style before and after). Paths in the
checkpoint's metadata, the state's header and the report are made portable (`mobilestyle.portable_paths`).
"""

from __future__ import annotations

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

from mobilestyle.errors import UserError
from mobilestyle.files import atomic_path, ensure_writable_dir
from mobilestyle.images import IMAGE_SUFFIXES, fit_frame, list_images, load_rgb
from mobilestyle.networks.arch import ArchSpec
from mobilestyle.networks.checkpoint import Checkpoint, save_checkpoint
from mobilestyle.networks.transformer_net import build_transformer_net
from mobilestyle.portable_paths import portable, portable_path
from mobilestyle.training.crops import crop_batches as random_crop_batches
from mobilestyle.training.distribute import (
    Distribution,
    broadcast_from_chief,
    chief_number,
    cluster_errors,
    distribute_batches,
    make_distribution,
    per_replica_batch,
    stopped_at,
    sync_batch_norm,
)
from mobilestyle.training.state import load_state, save_state
from mobilestyle.training.losses import gram_distance, perceptual_loss, style_grams
from mobilestyle.training.stability import (
    RANDOM_SHIFT,
    add_stability_term,
    replica_noise_step,
    stability_loss,
    validate_stability,
)
from mobilestyle.training.vgg import LossNetwork, load_loss_network

STATE_FORMAT = "mobilestyle.train-state/1"
SAMPLE_PHOTOS = 3
CURVE_POINTS = 200
CURVE_TERMS = ("loss", "content", "style", "tv", "stability")
MIN_STYLE_SIDE = 64
LOG_EVERY_SECONDS = 60
CONTENT_EPSILON = 1e-8  # losses.content_loss adds it to the content features' energy


@dataclass
class TrainConfig:
    style_image: Path
    content_dir: Path
    out: Path
    arch: ArchSpec = field(default_factory=ArchSpec)
    vgg_weights: Path | None = None
    steps: int = 2000
    batch_size: int = 4
    crop_size: int = 256
    style_size: int = 512
    content_weight: float = 1.0
    style_weight: float = 10.0
    tv_weight: float = 10.0
    stability_weight: float = 0.0
    stability_shift: int | str = RANDOM_SHIFT  # or a fixed 1-3 px
    stability_noise: float = 2.0
    lr: float = 1e-3
    seed: int = 0
    jit_compile: bool = True
    resume: bool = False
    checkpoint_every_minutes: float = 5.0
    licence: str = "unknown"
    style_name: str | None = None
    strategy: str = "auto"
    cpu_devices: int = 1

    def validate(self) -> None:
        if self.steps < 1:
            raise UserError(f"--steps must be at least 1, got {self.steps}")
        if self.batch_size < 1:
            raise UserError(f"--batch-size must be at least 1, got {self.batch_size}")
        if self.crop_size < 32 or self.crop_size % 4:
            raise UserError(f"--crop-size must be a multiple of 4 and at least 32, got {self.crop_size}")
        if self.style_size < MIN_STYLE_SIDE:
            raise UserError(f"--style-size must be at least {MIN_STYLE_SIDE}, got {self.style_size}")
        for name in ("content_weight", "style_weight", "tv_weight"):
            value = getattr(self, name)
            if not (value >= 0 and math.isfinite(value)):
                raise UserError(f"--{name.replace('_', '-')} must be a finite number >= 0, got {value}")
        validate_stability(self.stability_weight, self.stability_shift, self.stability_noise)
        if not self.lr > 0:
            raise UserError(f"--lr must be positive, got {self.lr}")
        if Path(self.out).suffix != ".npz":
            raise UserError(f"--out must name a .npz checkpoint, got {self.out}")

    def recipe(self) -> dict:
        """The options as recorded in checkpoints, states and reports: machine paths made portable."""
        values = {key: (str(value) if isinstance(value, Path) else value) for key, value in asdict(self).items()}
        values["arch"] = str(self.arch)
        return portable(values)


def work_dir(out: Path) -> Path:
    out = Path(out)
    return out.parent / f"{out.name.removesuffix('.npz')}.train"


def load_style(path: Path, size: int) -> np.ndarray:
    """The painting as RGB uint8, resized so that its shorter side is `size`."""
    rgb = load_rgb(path)
    height, width = rgb.shape[:2]
    if min(height, width) < MIN_STYLE_SIDE:
        raise UserError(f"painting {path} is too small ({width}x{height}); it needs at least "
                        f"{MIN_STYLE_SIDE} pixels on its shorter side")
    scale = size / min(height, width)
    resized = Image.fromarray(rgb).resize((max(1, round(width * scale)), max(1, round(height * scale))),
                                          Image.Resampling.LANCZOS)
    return np.asarray(resized, dtype=np.uint8)


def content_side(crop_size: int) -> int:
    """Photos are kept as squares 1.25x the crop side (a multiple of 4), so crops move around inside them."""
    return round(crop_size * 1.25 / 4) * 4


def load_content_photos(folder: Path, crop_size: int, progress: Progress | None = None) -> tuple[np.ndarray, list[Path]]:
    """Every photo in `folder`, fitted to content_side(crop_size) squares; a UserError for none or a tiny one."""
    folder = Path(folder)
    side, min_side = content_side(crop_size), crop_size // 2
    if not folder.exists():
        raise UserError(f"--content-dir {folder} does not exist")
    paths = list_images(folder)
    if not paths:
        raise UserError(f"--content-dir {folder} has no images ({', '.join(sorted(IMAGE_SUFFIXES))})")
    task = progress.add_task("loading photos", total=len(paths), info="") if progress else None
    photos = []
    for path in paths:
        rgb = load_rgb(path, fit_within=(side, side))
        with Image.open(path) as image:
            width, height = image.size
        if min(width, height) < min_side:
            raise UserError(f"content photo {path} is too small ({width}x{height}); {crop_size}-pixel crops "
                            f"need photos at least {min_side} pixels on their shorter side")
        photos.append(fit_frame(rgb, side, side))
        if progress:
            progress.advance(task)
    if progress:
        progress.remove_task(task)
    return np.stack(photos), paths


def crop_batches(photos: np.ndarray, config: TrainConfig, start_step: int) -> tf.data.Dataset:
    """Float32 batches of random crops with random flips; crop n of step s depends only on (seed, s, n)."""
    return random_crop_batches(photos, config.crop_size, config.batch_size, config.seed, start_step)


def make_train_step(net: keras.Model, loss_net: LossNetwork, grams: dict, optimizer: keras.optimizers.Optimizer,
                    config: TrainConfig, distribution: Distribution | None = None):
    """One Adam step on a global batch of content crops; returns the total loss and its terms (content,
    style, tv, and stability when its weight is not 0).

    The loss network's passes (most of the work) are XLA clusters when `config.jit_compile`; the
    TransformerNet runs outside them, because XLA on CPU has no kernel for the gradient of
    nearest-neighbour resizing. On R replicas each computes the loss of its crops with the content
    term normalised by the global batch's content energy (an all-reduce), and backpropagates 1/R of
    it; the optimizer sums the replicas' gradients: the gradient of the global batch's loss.
    """
    strategy = distribution.strategy if distribution else tf.distribute.get_strategy()
    replicas = strategy.num_replicas_in_sync
    mean = tf.distribute.ReduceOp.MEAN

    @tf.function(jit_compile=config.jit_compile)
    def content_features(content):
        targets = loss_net.content_targets(content)
        return targets, tf.reduce_mean(tf.square(targets[loss_net.content_layer]))

    @tf.function(jit_compile=config.jit_compile)
    def loss_and_gradient(stylized, content_targets, content_scale):
        with tf.GradientTape() as tape:
            tape.watch(stylized)
            _, terms = perceptual_loss(loss_net, stylized, content_targets, grams, config.content_weight,
                                       config.style_weight, config.tv_weight)
            terms["content"] = terms["content"] * content_scale
            total = (config.content_weight * terms["content"] + config.style_weight * terms["style"]
                     + config.tv_weight * terms["tv"])
            share = total / replicas
        return total, terms, tape.gradient(share, stylized)

    def replica_step(content):
        content_targets, energy = content_features(content)
        global_energy = tf.distribute.get_replica_context().all_reduce(mean, energy)
        content_scale = (energy + CONTENT_EPSILON) / (global_energy + CONTENT_EPSILON)
        with tf.GradientTape(persistent=config.stability_weight > 0) as tape:
            stylized = net(content, training=True)
            if config.stability_weight:
                stability = stability_loss(net, content, stylized, config.stability_shift, config.stability_noise,
                                           config.seed, replica_noise_step(optimizer.iterations, replicas),
                                           training=True, move_step=optimizer.iterations)
        total, terms, stylized_gradient = loss_and_gradient(stylized, content_targets, content_scale)
        gradients = tape.gradient(stylized, net.trainable_variables, output_gradients=stylized_gradient)
        if config.stability_weight:
            gradients, total, terms = add_stability_term(tape, gradients, net.trainable_variables,
                                                         config.stability_weight, stability, replicas, total, terms)
        optimizer.apply(gradients, net.trainable_variables)
        return total, terms

    @tf.function
    def train_step(content):
        total, terms = strategy.run(replica_step, args=(content,))
        return (strategy.reduce(mean, total, axis=None),
                {key: strategy.reduce(mean, value, axis=None) for key, value in terms.items()})

    return train_step


def stylize(net: keras.Model, photos: np.ndarray) -> np.ndarray:
    """The net's uint8 output for uint8 photos, one at a time (inference mode)."""
    outputs = [net(tf.constant(photo[None], tf.float32), training=False)[0].numpy() for photo in photos]
    return np.clip(np.rint(np.stack(outputs)), 0, 255).astype(np.uint8)


def write_grid(path: Path, style: np.ndarray, photos: np.ndarray, stylized: np.ndarray) -> None:
    """Top row: the photos; bottom row: stylized; left column: the painting scaled to the photos' height."""
    side = photos.shape[1]
    painting = Image.fromarray(style)
    painting = np.asarray(painting.resize((max(1, round(painting.width * 2 * side / painting.height)), 2 * side),
                                          Image.Resampling.LANCZOS))
    rows = np.concatenate([np.concatenate(list(photos), axis=1), np.concatenate(list(stylized), axis=1)], axis=0)
    with atomic_path(path) as tmp:
        Image.fromarray(np.concatenate([painting, rows], axis=1)).save(tmp, format="PNG")


def write_curve_plot(path: Path, curve: list[dict], title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(7, 4))
    steps = [point["step"] for point in curve]
    for key in [key for key in CURVE_TERMS if any(key in point for point in curve)]:
        axis.plot(steps, [point.get(key, math.nan) for point in curve],
                  label=key if key == "loss" else f"{key} (weighted)")
    axis.set_yscale("log")
    axis.set_xlabel("step")
    axis.set_ylabel("loss")
    axis.set_title(title)
    axis.legend()
    axis.grid(alpha=0.3)
    figure.tight_layout()
    with atomic_path(path) as tmp:
        figure.savefig(tmp, format="png", dpi=100)
    plt.close(figure)


def file_digest(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def train(config: TrainConfig, console: Console | None = None) -> dict:
    """Train the net for the painting up to `config.steps` in all; returns the report (also in the work folder).

    On a worker that is not the chief of a multi-worker cluster nothing is written and the report is
    a short summary.
    """
    console = console or Console()
    config.validate()
    distribution = make_distribution(config.strategy, config.cpu_devices)
    per_replica_batch(config.batch_size, distribution.replicas)
    chief = distribution.is_chief
    out = Path(config.out)
    style = load_style(config.style_image, config.style_size)
    with distribution.strategy.scope():
        loss_net = load_loss_network(config.vgg_weights)
    columns = [TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.completed:.0f}/{task.total:.0f}"),
               TextColumn("{task.fields[info]}"), TimeElapsedColumn(), TimeRemainingColumn()]
    with Progress(*columns, console=console, transient=True) as progress:
        photos, paths = load_content_photos(config.content_dir, config.crop_size, progress)
    folder = ensure_writable_dir(work_dir(out)) if chief else work_dir(out)
    sample_index = np.linspace(0, len(photos) - 1, min(SAMPLE_PHOTOS, len(photos))).round().astype(int)
    samples = photos[sample_index]
    grams = style_grams(loss_net, style)
    painting_digest = file_digest(config.style_image)
    style_name = config.style_name or Path(config.style_image).stem

    keras.utils.set_random_seed(config.seed)
    with distribution.strategy.scope():
        net = build_transformer_net(config.arch)
        net.build((None, None, None, 3))
        optimizer = keras.optimizers.Adam(config.lr)
        optimizer.build(net.trainable_variables)
    sync_batch_norm(net, distribution)
    step, elapsed, curve, before = 0, 0.0, [], None
    if config.resume and chief:
        header = load_state(folder / "state.npz", net, optimizer, STATE_FORMAT, config.arch, "training")
        if header["painting_sha256"] != painting_digest:
            raise UserError(f"--resume: the saved state was trained on another painting ({header['painting']})")
        step, elapsed, curve, before = header["step"], header["elapsed"], header["curve"], header["gram_distance_before"]
        if step >= config.steps:
            raise UserError(f"--resume: the saved state is already at step {step}; give --steps above {step}")
        console.log(f"resumed at step {step} ({elapsed / 60:.1f} min)")
    with cluster_errors(distribution, lambda: "before its first step"):
        broadcast_from_chief(distribution, [*net.weights, *optimizer.variables])
        step = int(chief_number(distribution, step))
    if before is None and chief:
        before = {"photos": gram_distance(loss_net, samples, grams),
                  "initial_net": gram_distance(loss_net, stylize(net, samples), grams)}
    console.log(f"{len(photos)} content photos, painting {Path(config.style_image).name} at "
                f"{style.shape[1]}x{style.shape[0]}, loss network {loss_net.describe()}; training on "
                f"{distribution.describe()}, global batch {config.batch_size}")

    def save(final: bool = False) -> Path:
        header = {"format": STATE_FORMAT, "step": step, "elapsed": elapsed, "curve": curve, "gram_distance_before": before,
                  "arch": config.arch.to_dict(), "painting": portable_path(config.style_image),
                  "painting_sha256": painting_digest, "recipe": config.recipe()}
        save_state(folder / "state.npz", net, optimizer, header)
        meta = {"style": style_name, "source_painting": Path(config.style_image).name, "licence": config.licence,
                "recipe": config.recipe(), "loss_network": loss_net.describe(), "steps": step,
                "minutes": round(elapsed / 60, 2), "final": final}
        path = save_checkpoint(Checkpoint.from_model(net, config.arch, meta), out)
        write_grid(folder / "grid.png", style, samples, stylize(net, samples))
        return path

    train_step = make_train_step(net, loss_net, grams, optimizer, config, distribution)

    def make_batches(size: int, first: int) -> tf.data.Dataset:
        return random_crop_batches(photos, config.crop_size, size, config.seed, first)

    batches = distribute_batches(distribution, make_batches, config.batch_size, step)
    curve_every = max(1, config.steps // CURVE_POINTS)
    window: list[dict] = []
    start_step, train_seconds, first_step_seconds = step, 0.0, None
    run_started, last_save, last_log = time.monotonic() - elapsed, elapsed, elapsed
    weights = {"content": config.content_weight, "style": config.style_weight, "tv": config.tv_weight,
               "stability": config.stability_weight}
    saved_step = step if config.resume else None

    def where() -> str:
        return stopped_at(chief, step, saved_step)

    with Progress(*columns, console=console) as progress, cluster_errors(distribution, where):
        task = progress.add_task("train", total=config.steps, completed=step, info="")
        try:
            while step < config.steps:
                step_started = time.monotonic()
                total, terms = train_step(next(batches))
                loss_value = float(total)
                seconds = time.monotonic() - step_started
                if first_step_seconds is None:
                    first_step_seconds = seconds
                else:
                    train_seconds += seconds
                if not math.isfinite(loss_value):
                    raise UserError(f"training diverged at step {step} (loss {loss_value}); lower --lr or --style-weight")
                step += 1
                elapsed = time.monotonic() - run_started
                point = {"loss": loss_value, **{key: weights[key] * float(value) for key, value in terms.items()}}
                window.append(point)
                if step % curve_every == 0 or step == config.steps:
                    curve.append({"step": step, **{key: round(float(np.mean([w[key] for w in window])), 6)
                                                   for key in window[0]}})
                    window = []
                timed = step - start_step - 1
                rate = (f"{timed / train_seconds:.2f} steps/s, {timed * config.batch_size / train_seconds:.1f} img/s"
                        if timed and train_seconds else "compiling")
                shown = f"loss {loss_value:.4f}"
                if "stability" in point:
                    shown += f"  stability {point['stability']:.4f}"
                progress.update(task, completed=step, info=f"{shown}  {rate}")
                if not console.is_terminal and elapsed - last_log >= LOG_EVERY_SECONDS:
                    console.log(f"step {step}/{config.steps}  {shown}  {rate}  {elapsed / 60:.1f} min")
                    last_log = elapsed
                if chief and elapsed - last_save >= 60 * config.checkpoint_every_minutes:
                    save()
                    last_save, saved_step = elapsed, step
        except KeyboardInterrupt:
            if chief:
                save()
                console.log(f"interrupted at step {step}: state saved, continue with --resume")
            raise
    timed = step - start_step - 1
    steps_per_second = timed / train_seconds if timed > 0 and train_seconds else None
    speed = {"strategy": distribution.kind, "replicas": distribution.replicas, "workers": distribution.workers,
             "global_batch": config.batch_size,
             "steps_per_second": round(steps_per_second, 4) if steps_per_second else None,
             "images_per_second": round(steps_per_second * config.batch_size, 3) if steps_per_second else None}
    if not chief:
        console.log(f"{distribution.task}: finished at step {step}; the chief writes the checkpoint and report")
        return {"steps": step, "steps_this_run": step - start_step, "chief": False, **speed}
    path = save(final=True)
    after = {"photos": before["photos"], "trained_net": gram_distance(loss_net, stylize(net, samples), grams)}
    report = {
        "checkpoint": portable_path(path), "style": style_name, "painting": portable_path(config.style_image),
        "loss_network": loss_net.describe(), "arch": str(config.arch), "steps": step,
        "steps_this_run": step - start_step, "minutes": round(elapsed / 60, 2), **speed,
        "first_step_seconds": round(first_step_seconds, 2) if first_step_seconds is not None else None,
        "jit_compile": config.jit_compile,
        "gram_distance": {"measured_with": loss_net.describe(),
                          "photos": [portable_path(paths[i]) for i in sample_index],
                          "before": before, "after": after},
        "curve": curve, "recipe": config.recipe(),
    }
    with atomic_path(folder / "report.json") as tmp:
        tmp.write_text(json.dumps(report, indent=2))
    write_curve_plot(folder / "curve.png", curve, f"{style_name}: {step} steps, {elapsed / 60:.1f} min")
    console.log(f"step {step}, {elapsed / 60:.1f} min; Gram distance to the style: photos {before['photos']:.3f}, "
                f"untrained net {before['initial_net']:.3f}, trained net {after['trained_net']:.3f}; "
                f"checkpoint {path}, work folder {folder}")
    return report
