"""How close can a 3-block student get to a 5-block teacher, with batch norm and with instance norm?

Every student here has the teacher's layout with `--blocks` residual blocks (3 unless told) and starts
from the teacher's own weights (stem, first blocks, decoder), so the figures measure what the missing
blocks and the choice of normalization cost, not how well an optimizer finds features from scratch.
With `--blocks 5` (all of a 5-block teacher's) the batch-norm rows measure what batch norm alone
costs; the instance rows would be the teacher itself and are skipped. Rows:

- `instance, copied`: the teacher with its blocks after the first `--blocks` removed (instance norm, as the teacher).
- `instance, block hints`: the same, then only its blocks trained for `--minutes` to reproduce the
  teacher's last block's features from its stem features (whole frames, MSE on features).
- `batch, copied`: the copied weights with batch norms whose statistics are measured on 16
  training frames (the deployed form: fixed per-channel scale and shift).
- `batch, fine-tuned`: that net trained end to end on whole frames for `--minutes` (pixel MSE, the
  statistics kept fixed so that it trains exactly the function it deploys).

Each row prints PSNR/SSIM and, as `mobilestyle evaluate` does, structure (PSNR after a sigma-3 blur),
detail ratio and, with `--vgg-weights`, the Gram distance, all against the teacher's frames.
`--minutes 0` prints only the copied rows (inference only, a few minutes); `--checkpoint FILE` adds a
row for a trained student (a shipped style, say) on the same frames.

Usage: python benchmarks/student_ceiling.py --teacher ../shared/data/teachers/ml5/scream \
           --train-photos ../shared/data/content/bsds500/train --eval-photos ../shared/data/content/bsds500/test \
           --train-count 48 --eval-count 4 --minutes 6 \
           [--vgg-weights ../shared/data/vgg/vgg19_conv1_1-conv3_4_keras_hwio.npz]
"""

import argparse
import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from mobilestyle.images import list_images, load_frame
from mobilestyle.networks.arch import ArchSpec
from mobilestyle.networks.checkpoint import load_checkpoint
from mobilestyle.networks.transformer_net import build_transformer_net
from mobilestyle.training.distill import cosine_learning_rate
from mobilestyle.training.targets import stylize_frames
from mobilestyle.training.frames import evenly_spaced
from mobilestyle.training.norm_stats import RECALIBRATION_FRAMES, recalibrate_batch_norm
from mobilestyle.training.quality import grams, mean_scores, score
from mobilestyle.training.student_init import teacher_init
from mobilestyle.training.teachers import load_teacher
from mobilestyle.training.vgg import TEXTURE_LAYERS, load_loss_network


def load(folder: Path, count: int, width: int, height: int) -> np.ndarray:
    return np.stack([load_frame(path, width, height) for path in evenly_spaced(list_images(folder), count)])


def copied_student(teacher, norm: str, blocks: int, height: int, width: int, frames: np.ndarray) -> keras.Model:
    arch = ArchSpec.from_dict({**teacher.arch.to_dict(), "blocks": blocks, "block_widths": None, "norm": norm})
    student = build_transformer_net(arch, height, width)
    teacher_init(student, teacher)
    if norm == "batch":
        recalibrate_batch_norm(student, frames[:RECALIBRATION_FRAMES])
    return student


def fit(model: keras.Model, inputs: np.ndarray, targets: np.ndarray, minutes: float, lr: float, batch: int,
        scale: float) -> int:
    """Adam on MSE/scale^2 for `minutes` (cosine learning rate to 5%), norms in inference mode; returns steps."""
    optimizer = keras.optimizers.Adam(lr)
    optimizer.build(model.trainable_variables)

    @tf.function
    def step(x, y):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square((model(x, training=False) - y) / scale))
        optimizer.apply(tape.gradient(loss, model.trainable_variables), model.trainable_variables)

    rng = np.random.default_rng(0)
    started, steps = time.monotonic(), 0
    while (fraction := (time.monotonic() - started) / (60 * minutes)) < 1:
        optimizer.learning_rate.assign(cosine_learning_rate(lr, fraction))
        picked = rng.choice(len(inputs), batch, replace=False)
        step(inputs[picked].astype(np.float32), targets[picked].astype(np.float32))
        steps += 1
    return steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--teacher", type=Path, required=True)
    parser.add_argument("--train-photos", type=Path, required=True)
    parser.add_argument("--eval-photos", type=Path, required=True)
    parser.add_argument("--train-count", type=int, default=48)
    parser.add_argument("--eval-count", type=int, default=4)
    parser.add_argument("--minutes", type=float, default=6.0, help="training budget of each trained row")
    parser.add_argument("--blocks", type=int, default=3, help="residual blocks of the student (the teacher's first ones)")
    parser.add_argument("--width", type=int, default=853)
    parser.add_argument("--height", type=int, default=480)
    parser.add_argument("--vgg-weights", type=Path, help="VGG19 weights for the Gram distance (left out without)")
    parser.add_argument("--checkpoint", type=Path, action="append", default=[],
                        help="a student checkpoint (.npz) to measure beside the rows; repeatable")
    args = parser.parse_args()

    teacher = load_teacher(args.teacher)
    if not 1 <= args.blocks <= teacher.arch.blocks:
        parser.error(f"--blocks must be between 1 and the teacher's {teacher.arch.blocks}, got {args.blocks}")
    train = load(args.train_photos, args.train_count, args.width, args.height)
    held_out = load(args.eval_photos, args.eval_count, args.width, args.height)
    teacher_net = teacher.build_model(args.height, args.width)
    held_out_target = stylize_frames(teacher_net, held_out)
    network = load_loss_network(args.vgg_weights, TEXTURE_LAYERS) if args.vgg_weights else None
    target_grams = [grams(network, target) if network else None for target in held_out_target]
    print(f"{args.teacher.name}, {args.blocks}-block students: {len(train)} training and {len(held_out)} held-out frames at "
          f"{args.width}x{args.height}; student vs teacher on the held-out frames", flush=True)
    print(f"{'':28s} {'PSNR':>9s}  {'SSIM':>6s}  {'structure':>9s}  {'Gram':>6s}  {'detail':>6s}", flush=True)

    def report(label: str, model: keras.Model, note: str = "") -> None:
        produced = stylize_frames(model, held_out)
        means = mean_scores([score(target, image, network, reference)
                             for target, image, reference in zip(held_out_target, produced, target_grams)])
        gram = f"{means['gram_distance']:6.3f}" if means["gram_distance"] is not None else f"{'-':>6s}"
        print(f"{label:28s} {means['psnr']:6.2f} dB  {means['ssim']:.4f}  {means['structure_psnr']:6.2f} dB  "
              f"{gram}  {means['detail_ratio']:6.2f}  {note}", flush=True)

    for path in args.checkpoint:
        report(path.name, load_checkpoint(path).build_model(args.height, args.width))
    if args.minutes <= 0:
        for norm in ("instance", "batch") if args.blocks < teacher.arch.blocks else ("batch",):
            report(f"{norm}, copied", copied_student(teacher, norm, args.blocks, args.height, args.width, train))
        return

    hinted = args.blocks < teacher.arch.blocks
    hint_layers = ["conv3_relu", f"res{teacher.arch.blocks}_add"] if hinted else []
    probe = keras.Model(teacher_net.input,
                        [teacher_net.get_layer(name).output for name in hint_layers] + [teacher_net.output])
    *hints, train_target = (np.concatenate(parts) for parts in
                            zip(*[[f.numpy() for f in probe(image[None].astype(np.float32))] for image in train]))
    if hinted:
        stem, body_target = hints
        student = copied_student(teacher, "instance", args.blocks, args.height, args.width, train)
        report("instance, copied", student)
        body = keras.Model(student.get_layer("conv3_relu").output, student.get_layer(f"res{args.blocks}_add").output)
        steps = fit(body, stem, body_target, args.minutes, lr=3e-4, batch=2, scale=float(body_target.std()))
        report("instance, block hints", student, f"{steps} steps of 2 frames, {args.minutes:g} min")
        del stem, body_target
    del hints

    train_target = np.clip(np.rint(train_target), 0, 255).astype(np.uint8)
    student = copied_student(teacher, "batch", args.blocks, args.height, args.width, train)
    report("batch, copied", student)
    steps = fit(student, train, train_target, args.minutes, lr=1e-4, batch=1, scale=255.0)
    report("batch, fine-tuned", student, f"{steps} steps of 1 frame, {args.minutes:g} min")


if __name__ == "__main__":
    main()
