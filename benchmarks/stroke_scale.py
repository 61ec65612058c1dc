"""Texture at the teacher's stroke scale: the Gram distance on frames shrunk 2x and 4x as well as at full size.

Usage:
  python benchmarks/stroke_scale.py --frames runs/s17/bn_g40/muse.distill/eval_targets.npz \
      --student muse=models/muse.npz --student muse_instance=models/muse_instance.npz \
      --vgg-weights ../shared/data/vgg/vgg19_conv1_1-conv3_4_keras_hwio.npz --count 12 \
      --json benchmarks/stroke_scale.json --plot benchmarks/stroke_scale.png

`mobilestyle evaluate`'s texture measure compares Gram matrices of VGG19 features up to relu3_4, whose
units see 48x48-px patches of the frame; la_muse paints strokes longer than that, and a student that
tiles flat regions with a small lattice can score well there (benchmarks/distill.md, "Four times the
Gram weight"). Shrinking both frames by 2 or 4 (area averaging) before the same measure lets relu3_4
see 96 or 192 px of the frame: stroke layout rather than stroke surface. Beside the students, two
references per scale: a σ2-px blur of the teacher (texture gone, layout kept) and the photo itself
(no style). `--frames` is a distill run's cached `eval_targets.npz` (photos and the teacher's frames).
"""

import argparse
import json
import shlex
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

from mobilestyle.errors import UserError
from mobilestyle.files import atomic_path
from mobilestyle.labelled import labelled_values
from mobilestyle.networks.checkpoint import load_checkpoint
from mobilestyle.portable_paths import portable_words
from mobilestyle.training import quality
from mobilestyle.training.targets import read_cached_targets, stylize_frames
from mobilestyle.training.vgg import TEXTURE_LAYERS, load_loss_network

REPO = Path(__file__).resolve().parents[1]
SCALES = (1, 2, 4)


def shrink(image: np.ndarray, factor: int) -> np.ndarray:
    """The frame shrunk `factor` times by area averaging (uint8)."""
    if factor == 1:
        return image
    height, width = image.shape[:2]
    return np.asarray(Image.fromarray(image).resize((width // factor, height // factor), Image.Resampling.BOX))


def gram_distances(network, teacher: np.ndarray, frames: np.ndarray, scales: tuple[int, ...]) -> dict[str, float]:
    """{scale: mean Gram distance of `frames` against the teacher's frames, both shrunk by it}."""
    result = {}
    for factor in scales:
        distances = [quality.gram_distance(quality.grams(network, shrink(t, factor)),
                                           quality.grams(network, shrink(f, factor)))
                     for t, f in zip(teacher, frames)]
        result[f"x{factor}"] = round(float(np.mean(distances)), 4)
    return result


def write_plot(path: Path, rows: dict[str, dict[str, float]], frames: int) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(7, 4))
    for label, distances in rows.items():
        factors = [int(key[1:]) for key in distances]
        axis.plot(factors, list(distances.values()), marker="o", label=label,
                  linestyle=":" if label.startswith("reference") else "-")
    axis.set_xscale("log", base=2)
    axis.set_xticks([int(key[1:]) for key in next(iter(rows.values()))])
    axis.set_xticklabels([f"1/{key[1:]}" if key != "x1" else "full" for key in next(iter(rows.values()))])
    axis.set_xlabel("frame size before VGG19 (relu3_4 sees 48 px of it x the shrink)")
    axis.set_ylabel("Gram distance to the teacher")
    axis.set_title(f"Texture at stroke scale ({frames} frames)", fontsize=10)
    axis.grid(alpha=0.3)
    axis.legend(fontsize=8)
    figure.tight_layout()
    with atomic_path(path) as tmp:
        figure.savefig(tmp, format="png", dpi=90)
    plt.close(figure)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=Path, required=True, help="a distill run's eval_targets.npz")
    parser.add_argument("--student", action="append", required=True, help="LABEL=CHECKPOINT.npz")
    parser.add_argument("--vgg-weights", type=Path, required=True)
    parser.add_argument("--count", type=int, default=12, help="frames to use (the first COUNT)")
    parser.add_argument("--json", type=Path, help="JSON to write")
    parser.add_argument("--plot", type=Path, help="PNG to write")
    args = parser.parse_args(argv)
    try:
        if args.count < 1:
            raise UserError(f"--count must be at least 1, got {args.count}")
        students = {label: load_checkpoint(Path(path)) for label, path
                    in labelled_values("--student", args.student, "LABEL=CHECKPOINT.npz").items()}
        content, teacher = read_cached_targets(args.frames, args.count)
        if min(content.shape[1:3]) // max(SCALES) < 32:
            raise UserError(f"frames of {content.shape[2]}x{content.shape[1]} are too small to shrink {max(SCALES)}x")
        network = load_loss_network(args.vgg_weights, TEXTURE_LAYERS)
        blurred = np.stack([np.clip(np.rint(quality.blur(t, quality.CALIBRATION_BLUR_SIGMA)), 0, 255).astype(np.uint8)
                            for t in teacher])
        rows = {}
        for label, checkpoint in students.items():
            started = time.monotonic()
            produced = stylize_frames(checkpoint.build_model(content.shape[1], content.shape[2]), content)
            rows[label] = gram_distances(network, teacher, produced, SCALES)
            print(f"{label}: {rows[label]} ({time.monotonic() - started:.0f} s)", flush=True)
        rows["reference: teacher blurred σ2"] = gram_distances(network, teacher, blurred, SCALES)
        rows["reference: the photo"] = gram_distances(network, teacher, content, SCALES)
        for label in list(rows)[-2:]:
            print(f"{label}: {rows[label]}")
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    report = {"command": " ".join(["python benchmarks/stroke_scale.py", shlex.join(portable_words(argv, REPO))]),
              "frames": len(content), "size": f"{content.shape[2]}x{content.shape[1]}",
              "layers": list(TEXTURE_LAYERS), "gram_distance_by_shrink": rows}
    if args.json:
        with atomic_path(args.json) as tmp:
            tmp.write_text(json.dumps(report, indent=1) + "\n")
    if args.plot:
        write_plot(args.plot, rows, len(content))
    return 0


if __name__ == "__main__":
    sys.exit(main())
