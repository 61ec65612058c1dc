"""How many L-BFGS iterations `stylize --method optimize` needs: loss and Gram distance vs iterations.

Optimizes one photo at the default size and snapshots the image at several iteration counts; writes
STEM.png (photo, painting, snapshots) and STEM.json (loss per evaluation, Gram distance per snapshot,
seconds).

    python benchmarks/optimize_iterations.py --vgg-weights ../shared/data/vgg/vgg19_conv1_1-conv3_4_keras_hwio.npz \
        --out benchmarks/optimize_iterations

Paths go into STEM.json portably (`mobilestyle.portable_paths`, against the repository root).
"""

import argparse
import json
import time
from pathlib import Path

import numpy as np
import tensorflow as tf
from PIL import Image

from mobilestyle.images import load_rgb
from mobilestyle.portable_paths import portable_path
from mobilestyle.training.losses import gram_distance, style_grams
from mobilestyle.training.optimize import DEFAULT_SIZE, make_loss_and_gradient, resize_longer_side, run_lbfgs
from mobilestyle.training.perceptual import load_style
from mobilestyle.training.vgg import load_loss_network

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SHARED = REPO.parent / "shared/data"


def record(photo, style_image, size: int, loss_network: str, snapshots: list[dict], losses: list[float],
           base: Path = REPO) -> dict:
    """STEM.json: the figures as measured, the photo's and painting's paths made portable against `base`."""
    return {"photo": portable_path(photo, base), "style_image": portable_path(style_image, base), "size": size,
            "loss_network": loss_network, "weights": {"content": 1.0, "style": 10.0, "tv": 10.0},
            "snapshots": snapshots, "loss_per_evaluation": [round(value, 4) for value in losses]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--vgg-weights", type=Path, required=True)
    parser.add_argument("--style-image", type=Path, default=SHARED / "styles/wave.jpg")
    parser.add_argument("--photo", type=Path, default=SHARED / "content/bsds500/test/100007.jpg")
    parser.add_argument("--size", type=int, default=DEFAULT_SIZE)
    parser.add_argument("--snapshots", default="25,50,100,150,200")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()

    snapshots = sorted(int(value) for value in args.snapshots.split(","))
    loss_net = load_loss_network(args.vgg_weights)
    style = load_style(args.style_image, args.size)
    grams = style_grams(loss_net, style)
    content = resize_longer_side(load_rgb(args.photo), args.size).astype(np.float32)
    targets = loss_net.content_targets(content[None])
    loss_and_gradient = make_loss_and_gradient(loss_net, grams, 1.0, 10.0, 10.0)
    taken: dict[int, np.ndarray] = {}
    count = 0
    started = time.monotonic()
    seconds: dict[int, float] = {}

    def on_iteration(image):
        nonlocal count
        count += 1
        if count in snapshots:
            taken[count] = np.clip(np.rint(image[0]), 0, 255).astype(np.uint8)
            seconds[count] = round(time.monotonic() - started, 1)
            print(f"iteration {count}: {seconds[count]} s", flush=True)

    _, losses = run_lbfgs(loss_and_gradient, content[None], targets, snapshots[-1], on_iteration)
    rows = [{"iterations": 0, "gram_distance": round(gram_distance(loss_net, content[None], grams), 4)}]
    for iterations, image in sorted(taken.items()):
        loss, _ = loss_and_gradient(tf.constant(image[None], tf.float32), targets)
        rows.append({"iterations": iterations, "seconds": seconds[iterations], "loss": round(float(loss), 4),
                     "gram_distance": round(gram_distance(loss_net, image[None], grams), 4)})
        print(rows[-1], flush=True)
    height = content.shape[0]
    painting = Image.fromarray(style)
    painting = np.asarray(painting.resize((round(painting.width * height / painting.height), height)))
    strip = np.concatenate([content.astype(np.uint8), painting] + [taken[i] for i in sorted(taken)], axis=1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(strip).save(args.out.with_suffix(".png"))
    result = record(args.photo, args.style_image, args.size, loss_net.describe(), rows, losses)
    args.out.with_suffix(".json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
