"""Distillation data: which photos train and which are held out, and the teacher's frames for them.

The content photos are fitted to camera frames (853x480, cover + centre crop) and the teacher
stylizes each whole frame once (cached), so the student learns the teacher's output as it looks on a
full frame. The teacher runs on the frame reflect-padded by `TEACHER_PAD` px and its output is
cropped back: lengstrom's teachers pad with zeros inside, which paints coloured bands along the
frame's edges, and a target without them lets the student be cleaner than its teacher there.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
from rich.progress import Progress

from mobilestyle.errors import UserError
from mobilestyle.files import atomic_path
from mobilestyle.networks.checkpoint import Checkpoint
from mobilestyle.training.crops import crop_batches as random_crop_batches
from mobilestyle.training.frames import evenly_spaced, list_photos, load_frames

FRAME_LOADER = "mobilestyle.images.load_frame"
# A multiple of 4 keeps the padded frame on the teacher's stride grid.
TEACHER_PAD = 32


def split_content(content_dirs: list[Path], eval_dir: Path | None, train_images: int,
                  eval_images: int) -> tuple[list[Path], list[Path]]:
    """Training and held-out photos: `eval_dir`, or every 10th content photo."""
    photos = list_photos(content_dirs)
    if eval_dir is not None:
        held_out = list_photos([eval_dir])
        train = [p for p in photos if p not in set(held_out)]
    else:
        if len(photos) < 2:
            raise UserError("need at least 2 content photos to hold one out for evaluation (or give --eval-dir)")
        held_out = photos[::10]
        train = [p for i, p in enumerate(photos) if i % 10]
    if not train:
        raise UserError("no training photos left after holding out the evaluation photos")
    if train_images:
        train = evenly_spaced(train, train_images)
    return train, evenly_spaced(held_out, eval_images)


def trained_on(train: list[Path], held_out: list[Path]) -> int:
    """How many of the held-out photos are the same files as training photos (reached through links or
    another folder): then the evaluation measures fit, not generalisation, and the reports say so."""
    training_files = {path.resolve() for path in train}
    return sum(path.resolve() in training_files for path in held_out)


def stylize_frames(model: keras.Model, frames: np.ndarray, progress: Progress | None = None,
                   label: str = "teacher", pad: int = 0) -> np.ndarray:
    """Run a model over uint8 frames one at a time (on each frame reflect-padded by `pad`); uint8 results."""
    task = progress.add_task(label, total=len(frames), info="") if progress else None
    outputs = []
    for image in frames:
        if pad:
            image = np.pad(image, ((pad, pad), (pad, pad), (0, 0)), mode="reflect")
        result = model(image[None].astype(np.float32), training=False)[0].numpy()
        if pad:
            result = result[pad:-pad, pad:-pad]
        outputs.append(np.clip(np.rint(result), 0, 255).astype(np.uint8))
        if progress:
            progress.advance(task)
    if progress:
        progress.remove_task(task)
    return np.stack(outputs)


def _targets_key(teacher: Checkpoint, paths: list[Path], width: int, height: int, pad: int) -> str:
    digest = hashlib.sha256()
    for name in sorted(teacher.weights):
        digest.update(name.encode())
        digest.update(np.ascontiguousarray(teacher.weights[name]).tobytes())
    digest.update(json.dumps([FRAME_LOADER, width, height, pad, *map(str, paths)]).encode())
    return digest.hexdigest()


def teacher_targets(teacher: Checkpoint, paths: list[Path], width: int, height: int, cache: Path,
                    progress: Progress | None, pad: int = TEACHER_PAD) -> tuple[np.ndarray, np.ndarray]:
    """(content frames, teacher frames) for the photos, cached in `cache` keyed by teacher, photos and padding."""
    key = _targets_key(teacher, paths, width, height, pad)
    if cache.exists():
        with np.load(cache, allow_pickle=False) as data:
            if str(data["key"]) == key:
                return data["content"], data["target"]
    content = load_frames(paths, width, height)
    model = teacher.build_model(height + 2 * pad, width + 2 * pad)
    target = stylize_frames(model, content, progress, pad=pad)
    with atomic_path(cache) as tmp:
        with open(tmp, "wb") as handle:
            np.savez(handle, key=np.array(key), content=content, target=target)
    return content, target


def read_cached_targets(path: Path, count: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(content frames, teacher frames) from a run's `targets.npz` / `eval_targets.npz`, the first `count` of them.

    For the benchmarks that judge students against one run's teacher frames: a missing, unreadable or
    foreign file is a one-line `UserError`.
    """
    if not path.is_file():
        raise UserError(f"{path}: no such file (a distill run's targets.npz or eval_targets.npz)")
    try:
        with np.load(path, allow_pickle=False) as data:
            if "content" not in data.files or "target" not in data.files:
                raise UserError(f"{path} holds no \"content\" and \"target\" frames: not a distill run's targets")
            content, target = data["content"][:count], data["target"][:count]
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
        raise UserError(f"{path} is not a readable .npz ({error})") from None
    if content.ndim != 4 or content.shape != target.shape or not len(content):
        raise UserError(f"{path}: content {content.shape} and target {target.shape} are not matching frames")
    return content, target


def pair_batches(content: np.ndarray, target: np.ndarray, crop_size: int, batch_size: int, seed: int,
                 start_step: int) -> tf.data.Dataset:
    """Batches of (content crop, teacher crop) float32 pairs; crop n of step s depends only on (seed, s, n)."""
    pairs = np.concatenate([content, target], axis=-1)
    return (random_crop_batches(pairs, crop_size, batch_size, seed, start_step)
            .map(lambda batch: (batch[..., :3], batch[..., 3:])))
