"""Training steps per second with and without XLA for the perceptual-loss trainer.

The two variants alternate round by round, so that load from other processes on a shared machine
hits both alike. Prints one line per variant and merges them (by crop size) into benchmarks/train_step_speed.json.

    python benchmarks/train_step_speed.py --vgg-weights ../shared/data/vgg/vgg19_conv1_1-conv3_4_keras_hwio.npz
"""

import argparse
import json
import os
import time
from pathlib import Path

import keras
import numpy as np

from mobilestyle.networks.arch import ArchSpec
from mobilestyle.networks.transformer_net import build_transformer_net
from mobilestyle.training.losses import style_grams
from mobilestyle.training.perceptual import TrainConfig, crop_batches, load_content_photos, load_style, make_train_step
from mobilestyle.training.vgg import load_loss_network

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--vgg-weights", type=Path, required=True)
    parser.add_argument("--style-image", type=Path, default=HERE.parent.parent / "shared/data/styles/wave.jpg")
    parser.add_argument("--content-dir", type=Path, default=HERE.parent.parent / "shared/data/content/bsds500/train")
    parser.add_argument("--crop-sizes", default="128,256")
    parser.add_argument("--steps", type=int, default=4, help="Timed steps per variant and round.")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()

    loss_net = load_loss_network(args.vgg_weights)
    rows = []
    for crop in (int(value) for value in args.crop_sizes.split(",")):
        config = TrainConfig(style_image=args.style_image, content_dir=args.content_dir, out=Path("unused.npz"),
                             crop_size=crop, style_size=2 * crop)
        photos, _ = load_content_photos(args.content_dir, crop)
        grams = style_grams(loss_net, load_style(args.style_image, config.style_size))
        variants = {}
        for jit in (False, True):
            config.jit_compile = jit
            keras.utils.set_random_seed(0)
            net = build_transformer_net(ArchSpec())
            optimizer = keras.optimizers.Adam(1e-3)
            optimizer.build(net.trainable_variables)
            step = make_train_step(net, loss_net, grams, optimizer, config)
            batches = iter(crop_batches(photos, config, 0))
            started = time.monotonic()
            step(next(batches))
            variants[jit] = {"step": step, "batches": batches, "first_step_s": time.monotonic() - started, "times": []}
        for _ in range(args.rounds):
            for jit, variant in variants.items():
                for _ in range(args.steps):
                    batch = next(variant["batches"])
                    started = time.monotonic()
                    float(variant["step"](batch)[0])
                    variant["times"].append(time.monotonic() - started)
        for jit, variant in variants.items():
            rows.append({"crop": crop, "batch": config.batch_size, "xla": jit, "loss_network": loss_net.describe(),
                         "steps_per_second": round(1 / float(np.median(variant["times"])), 4),
                         "median_step_s": round(float(np.median(variant["times"])), 3),
                         "first_step_s": round(variant["first_step_s"], 1), "timed_steps": len(variant["times"])})
            print(rows[-1], flush=True)
    path = HERE / "train_step_speed.json"
    earlier = json.loads(path.read_text())["rows"] if path.exists() else []
    measured = {row["crop"] for row in rows}
    for row in rows:
        row.update({"cpu_count": os.cpu_count(), "load_average_after": [round(v, 1) for v in os.getloadavg()]})
    rows = [row for row in earlier if row["crop"] not in measured] + rows
    path.write_text(json.dumps({"rows": sorted(rows, key=lambda row: (row["crop"], row["xla"]))}, indent=2))


if __name__ == "__main__":
    main()
