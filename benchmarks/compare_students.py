"""Several students on one distillation run's held-out frames: the quality measures side by side.

Usage:
  python benchmarks/compare_students.py --frames runs/muse/muse.distill/eval_targets.npz \
      --student "before=OLD.npz" --student "perceptual=runs/muse/muse.npz" \
      --vgg-weights ../shared/data/vgg/vgg19_conv1_1-conv3_4_keras_hwio.npz --out benchmarks/perceptual_muse_compare.json

`--frames` is the `eval_targets.npz` a `mobilestyle distill` run caches (content frames and the
teacher's frames), so every student is judged against the same teacher frames; its `targets.npz`
(the training frames; `--count` takes the first few) shows how well a student fits what it trained on.
The photos' own border departure is printed as the bar for the students' borders. `--grid
muse_compare.jpg` also draws photo | teacher | each student, centre crops of the first two frames at
100%. (An old shipped checkpoint is in git: `git show REV:models/muse.npz > OLD.npz`.)
"""

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from mobilestyle.errors import UserError
from mobilestyle.files import atomic_path
from mobilestyle.labelled import labelled_values
from mobilestyle.networks.checkpoint import Checkpoint, load_checkpoint
from mobilestyle.training import distill_report, quality
from mobilestyle.training.targets import read_cached_targets
from mobilestyle.training.vgg import TEXTURE_LAYERS, load_loss_network

GRID_CROP = (320, 240)
GRID_ROWS = 2


def compare(content: np.ndarray, target: np.ndarray, students: dict[str, Checkpoint],
            network) -> tuple[dict, dict[str, np.ndarray]]:
    """{label: the distillation report's measures} for each student and the photos' own border departure;
    and each student's frames."""
    results, produced = {}, {}
    for label, checkpoint in students.items():
        model = checkpoint.build_model(content.shape[1], content.shape[2])
        started = time.monotonic()
        results[label], produced[label] = distill_report.measure(model, content, target, network)
        print(f"{label}: {json.dumps(results[label])} ({time.monotonic() - started:.0f} s)", flush=True)
    results["photo_border"] = round(float(np.mean([quality.border_departure(frame) for frame in content])), 4)
    print(f"photo border {results['photo_border']} on {len(content)} frames")
    return results, produced


def write_crops(path: Path, content: np.ndarray, target: np.ndarray, produced: dict[str, np.ndarray],
                rows: int = GRID_ROWS) -> None:
    """photo | teacher | each student: the centre GRID_CROP (or less) of the first `rows` frames at 100%, labelled."""
    width, height = min(GRID_CROP[0], content.shape[2]), min(GRID_CROP[1], content.shape[1])
    top, left = (content.shape[1] - height) // 2, (content.shape[2] - width) // 2
    columns = [("photo", content), ("teacher", target), *produced.items()]
    strips = []
    for index in range(min(rows, len(content))):
        tiles = [Image.fromarray(frames[index][top:top + height, left:left + width]) for _, frames in columns]
        if index == 0:
            for tile, (label, _) in zip(tiles, columns):
                draw = ImageDraw.Draw(tile)
                draw.rectangle(draw.textbbox((4, 2), label), fill=(0, 0, 0))
                draw.text((4, 2), label, fill=(255, 255, 255))
        strips.append(np.concatenate([np.asarray(tile) for tile in tiles], axis=1))
    image_format = "JPEG" if path.suffix.lower() in (".jpg", ".jpeg") else "PNG"
    with atomic_path(path) as tmp:
        Image.fromarray(np.concatenate(strips, axis=0)).save(tmp, format=image_format, quality=88)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=Path, required=True, help="a distill run's eval_targets.npz")
    parser.add_argument("--student", action="append", required=True, help="LABEL=CHECKPOINT.npz")
    parser.add_argument("--vgg-weights", type=Path, required=True)
    parser.add_argument("--count", type=int, default=0, help="use the first COUNT frames (0: all)")
    parser.add_argument("--out", type=Path, required=True, help="JSON to write")
    parser.add_argument("--grid", type=Path, help="an image (.png or .jpg) of the first frames' centre crops at 100%%")
    args = parser.parse_args(argv)
    try:
        if args.count < 0:
            raise UserError(f"--count must be 0 (all frames) or more, got {args.count}")
        students = {label: load_checkpoint(Path(path)) for label, path
                    in labelled_values("--student", args.student, "LABEL=CHECKPOINT.npz").items()}
        if "photo_border" in students:
            raise UserError("--student photo_border: that label names the photos' row in the JSON; choose another")
        content, target = read_cached_targets(args.frames, args.count or None)
        results, produced = compare(content, target, students, load_loss_network(args.vgg_weights, TEXTURE_LAYERS))
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    with atomic_path(args.out) as tmp:
        tmp.write_text(json.dumps(results, indent=1) + "\n")
    if args.grid:
        write_crops(args.grid, content, target, produced)
    return 0


if __name__ == "__main__":
    sys.exit(main())
