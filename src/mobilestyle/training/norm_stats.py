"""Re-estimate batch-norm statistics on whole frames, the way the deployed net sees its input.

During training each batch norm normalizes with its batch's statistics (a few small crops) and keeps
a momentum average of them; the exported net then uses that average on whole 853x480 frames, after
earlier layers that themselves used averages. Recomputing each layer's mean and variance on whole
frames, layer by layer in inference mode, removes that mismatch (measured: +0.2 dB on a distilled
scream student, `benchmarks/distill.md`).

A student is measured this way before training (`fix_norm_statistics`, distill's `--norm-stats fixed`)
or after it (`recalibrate`, kept only when it brings the student closer to its teacher).
"""

from __future__ import annotations

import keras
import numpy as np
from rich.console import Console

from mobilestyle.networks.checkpoint import model_weights, set_model_weights
from mobilestyle.training import quality
from mobilestyle.training.frames import evenly_spaced
from mobilestyle.training.targets import stylize_frames

RECALIBRATION_FRAMES = 16
RECALIBRATION_CHECK_FRAMES = 4


def recalibrate_batch_norm(model: keras.Model, frames: np.ndarray) -> int:
    """Set every BatchNormalization's moving mean/variance to its input's exact statistics over `frames`.

    Layers are visited in graph order, so each one is measured after the earlier ones were updated.
    Returns the number of layers updated (0 for a net without batch norm).
    """
    norms = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    for norm in norms:
        probe = keras.Model(model.inputs[0], norm.input)
        total, total_squares = 0.0, 0.0
        for image in frames:
            activations = probe(image[None].astype(np.float32), training=False).numpy().astype(np.float64)
            total = total + activations.mean(axis=(0, 1, 2))
            total_squares = total_squares + np.square(activations).mean(axis=(0, 1, 2))
        mean = total / len(frames)
        norm.moving_mean.assign(mean.astype(np.float32))
        norm.moving_variance.assign(np.maximum(total_squares / len(frames) - mean**2, 0.0).astype(np.float32))
    return len(norms)


def structure_score(model: keras.Model, content: np.ndarray, target: np.ndarray) -> float:
    produced = stylize_frames(model, content)
    return float(np.mean([quality.structure_psnr(t, s) for t, s in zip(target, produced)]))


def calibration_indices(frame_count: int) -> list[int]:
    """The training frames whose whole-frame statistics set the batch norms (evenly spaced)."""
    return evenly_spaced(list(range(frame_count)), RECALIBRATION_FRAMES)


def recalibrate(student: keras.Model, eval_model: keras.Model, train_content: np.ndarray, train_target: np.ndarray,
                console: Console) -> dict | None:
    """Re-estimate the student's batch-norm statistics on whole training frames (`recalibrate_batch_norm`).

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
