"""The optimization method (Gatys et al.): optimize the pixels of each image against the perceptual losses.

Slow (seconds per iteration on a CPU) but needs no training, and it is the quality reference for the
feed-forward nets. The losses are those of `losses.py` with the same loss networks as training.
The image starts from the photo itself; in a clip (a folder of frames or a video), each frame starts
from the previous frame's result, which keeps the strokes steady and converges in fewer iterations.
L-BFGS-B (scipy) keeps pixels inside 0..255; Adam is the alternative.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import numpy as np
import tensorflow as tf
from PIL import Image
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from mobilestyle.errors import UserError
from mobilestyle.files import ensure_writable_dir
from mobilestyle.images import IMAGE_SUFFIXES, MIN_SIDE, list_images, load_rgb, save_png
from mobilestyle.training.losses import perceptual_loss, style_grams
from mobilestyle.training.perceptual import load_style
from mobilestyle.training.vgg import LossNetwork, load_loss_network

VIDEO_SUFFIXES = {".mp4", ".mov", ".avi", ".mkv", ".webm", ".m4v"}
DEFAULT_ITERATIONS = 100
DEFAULT_SIZE = 384
METHODS = ("lbfgs", "adam")


@dataclass
class FrameResult:
    path: Path
    initial_loss: float
    final_loss: float
    iterations: int
    seconds: float
    warm_started: bool


@dataclass
class OptimizeResult:
    frames: list[FrameResult] = field(default_factory=list)

    @property
    def paths(self) -> list[Path]:
        return [frame.path for frame in self.frames]


def resize_longer_side(rgb: np.ndarray, size: int) -> np.ndarray:
    height, width = rgb.shape[:2]
    scale = size / max(height, width)
    target = (max(MIN_SIDE, round(width * scale)), max(MIN_SIDE, round(height * scale)))
    return np.asarray(Image.fromarray(rgb).resize(target, Image.Resampling.LANCZOS), dtype=np.uint8)


def read_video(path: Path, max_frames: int | None) -> Iterator[np.ndarray]:
    import cv2

    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        raise UserError(f"{path} is not a video OpenCV can read")
    count = 0
    try:
        while max_frames is None or count < max_frames:
            ok, bgr = capture.read()
            if not ok:
                break
            count += 1
            yield cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    finally:
        capture.release()
    if count == 0:
        raise UserError(f"video {path} has no frames OpenCV can decode")


@dataclass
class Source:
    """One input: a single image, or a clip (frames in order) written into its own sub-folder."""

    path: Path
    is_clip: bool
    frame_count: int

    def frames(self, max_frames: int | None) -> Iterator[tuple[str, np.ndarray]]:
        if self.path.is_dir():
            for frame_path in list_images(self.path)[:max_frames]:
                yield frame_path.stem, load_rgb(frame_path)
        elif self.path.suffix.lower() in VIDEO_SUFFIXES:
            for index, rgb in enumerate(read_video(self.path, max_frames), start=1):
                yield f"frame_{index:05d}", rgb
        else:
            yield self.path.stem, load_rgb(self.path)


def describe_sources(image_paths: list[Path], max_frames: int | None) -> list[Source]:
    """Check every input before any work starts: images exist, folders hold images, videos open."""
    if not image_paths:
        raise UserError("give at least one IMAGE (a photo, a folder of frames or a video)")
    sources = []
    for path in map(Path, image_paths):
        if not path.exists():
            raise UserError(f"{path} does not exist")
        if path.is_dir():
            count = len(list_images(path))
            if count == 0:
                raise UserError(f"folder {path} has no images ({', '.join(sorted(IMAGE_SUFFIXES))})")
            sources.append(Source(path, True, min(count, max_frames or count)))
        elif path.suffix.lower() in VIDEO_SUFFIXES:
            import cv2

            capture = cv2.VideoCapture(str(path))
            count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) if capture.isOpened() else 0
            capture.release()
            if count <= 0:
                raise UserError(f"{path} is not a video OpenCV can read")
            sources.append(Source(path, True, min(count, max_frames or count)))
        else:
            sources.append(Source(path, False, 1))
    stems = [source.path.stem for source in sources]
    duplicates = sorted({stem for stem in stems if stems.count(stem) > 1})
    if duplicates:
        raise UserError(f"several inputs would be written to the same place: {', '.join(duplicates)}")
    return sources


def make_loss_and_gradient(loss_net: LossNetwork, grams: dict, content_weight: float, style_weight: float,
                           tv_weight: float):
    @tf.function(jit_compile=True, reduce_retracing=True)
    def loss_and_gradient(image, content_features):
        with tf.GradientTape() as tape:
            tape.watch(image)
            total, _ = perceptual_loss(loss_net, image, content_features, grams, content_weight, style_weight,
                                       tv_weight)
        return total, tape.gradient(total, image)

    return loss_and_gradient


def run_lbfgs(loss_and_gradient, start: np.ndarray, content_features, iterations: int, on_iteration) -> tuple[np.ndarray, list[float]]:
    """L-BFGS-B within 0..255. The tolerances are off: the normalised losses have pixel gradients near
    1e-5, under scipy's default stopping thresholds, so it would stop after a few iterations."""
    from scipy.optimize import minimize

    shape = start.shape
    losses: list[float] = []

    def value_and_gradient(flat: np.ndarray):
        image = tf.constant(flat.reshape(shape), tf.float32)
        loss, gradient = loss_and_gradient(image, content_features)
        losses.append(float(loss))
        return float(loss), gradient.numpy().astype(np.float64).ravel()

    result = minimize(value_and_gradient, start.astype(np.float64).ravel(), jac=True, method="L-BFGS-B",
                      bounds=[(0.0, 255.0)] * start.size,
                      callback=lambda flat: on_iteration(flat.reshape(shape)),
                      options={"maxiter": iterations, "maxfun": iterations * 2, "maxcor": 20, "ftol": 0.0, "gtol": 0.0})
    return result.x.reshape(shape).astype(np.float32), losses


def run_adam(loss_and_gradient, start: np.ndarray, content_features, iterations: int, on_iteration,
             learning_rate: float = 2.0) -> tuple[np.ndarray, list[float]]:
    import keras

    image = tf.Variable(start.astype(np.float32))
    optimizer = keras.optimizers.Adam(learning_rate)
    losses = []
    for _ in range(iterations):
        loss, gradient = loss_and_gradient(tf.convert_to_tensor(image), content_features)
        optimizer.apply([gradient], [image])
        image.assign(tf.clip_by_value(image, 0.0, 255.0))
        losses.append(float(loss))
        on_iteration(image.numpy())
    return image.numpy(), losses


def optimize_images(style_image_path: Path, image_paths: list[Path], out_dir: Path,
                    iterations: int = DEFAULT_ITERATIONS, vgg_weights: Path | None = None, size: int = DEFAULT_SIZE,
                    content_weight: float = 1.0, style_weight: float = 10.0, tv_weight: float = 10.0,
                    style_size: int | None = None, method: str = "lbfgs", max_frames: int | None = None,
                    console: Console | None = None) -> OptimizeResult:
    """Stylize photos, folders of frames or videos by optimizing their pixels; PNGs in `out_dir`.

    A photo X becomes `out_dir/X.png`; a clip (folder or video) becomes `out_dir/<clip name>/<frame>.png`,
    each frame warm-started from the previous one's result. `size` is the longer side of the result.
    """
    console = console or Console()
    if iterations < 1:
        raise UserError(f"--iterations must be at least 1, got {iterations}")
    if size < 32:
        raise UserError(f"--size must be at least 32, got {size}")
    if method not in METHODS:
        raise UserError(f"--optimizer must be one of {', '.join(METHODS)}, got {method!r}")
    sources = describe_sources(list(image_paths), max_frames)
    style = load_style(Path(style_image_path), style_size or size)
    loss_net = load_loss_network(vgg_weights)
    out_dir = ensure_writable_dir(Path(out_dir))
    grams = style_grams(loss_net, style)
    loss_and_gradient = make_loss_and_gradient(loss_net, grams, content_weight, style_weight, tv_weight)
    run = run_lbfgs if method == "lbfgs" else run_adam
    result = OptimizeResult()
    total = iterations * sum(source.frame_count for source in sources)
    columns = [TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("{task.fields[info]}"), TimeElapsedColumn(), TimeRemainingColumn()]
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("optimize", total=total, info="")
        for source in sources:
            target_dir = ensure_writable_dir(out_dir / source.path.stem) if source.is_clip else out_dir
            previous: np.ndarray | None = None
            for name, rgb in source.frames(max_frames):
                content = resize_longer_side(rgb, size).astype(np.float32)
                content_features = loss_net.content_targets(content[None])
                warm = previous is not None and previous.shape == content.shape
                start = previous if warm else content
                done_before = progress.tasks[0].completed
                started = time.monotonic()
                image, losses = run(loss_and_gradient, start[None], content_features, iterations,
                                    lambda _: progress.advance(task))
                progress.update(task, completed=done_before + iterations,
                                info=f"{source.path.name}:{name} loss {losses[-1]:.3f}")
                final_loss, _ = loss_and_gradient(tf.constant(image), content_features)
                previous = image[0]
                path = save_png(np.clip(np.rint(image[0]), 0, 255).astype(np.uint8), target_dir / f"{name}.png")
                result.frames.append(FrameResult(path, losses[0], float(final_loss), len(losses),
                                                 time.monotonic() - started, warm))
    return result
