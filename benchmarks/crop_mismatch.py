"""What a student is trained on (a square crop) against what it is judged on (the whole frame).

`mobilestyle distill` trains on crops of the teacher's whole frames. A batch-norm student with fixed
statistics computes the same function on a crop as on the frame (only its receptive field at the crop's
edges differs); an instance-norm student renormalises whatever it is given, so on a crop its colours
follow the crop's statistics while the teacher's frame followed the whole frame's. This prints, per
student and crop size, the structure (PSNR after a σ3 blur) of:

- crop vs frame: its output on the crop against its output on the whole frame over that region;
- on crop / on frame: each of those against the teacher's frame over that region.

A 16-px margin inside each crop is left out (padding differs there). Random crops, seeded.

Usage:
  python benchmarks/crop_mismatch.py --frames runs/muse/muse.distill/eval_targets.npz \
      --student muse=models/muse.npz --student muse_instance=models/muse_instance.npz \
      --crop 256 --crop 480 --count 8 --json benchmarks/crop_mismatch.json
"""

import argparse
import json
import shlex
import sys
import time
from pathlib import Path

import numpy as np

from mobilestyle.errors import UserError
from mobilestyle.files import atomic_path
from mobilestyle.labelled import labelled_values
from mobilestyle.networks.checkpoint import load_checkpoint
from mobilestyle.portable_paths import portable_words
from mobilestyle.training import quality
from mobilestyle.training.targets import read_cached_targets

REPO = Path(__file__).resolve().parent.parent
MARGIN = 16
CROPS_PER_FRAME = 2


def crop_boxes(height: int, width: int, size: int, count: int, seed: int) -> list[tuple[int, int, int]]:
    """(frame index, top, left) of CROPS_PER_FRAME random size x size crops in each of `count` frames."""
    if size > min(height, width):
        raise UserError(f"--crop {size} is larger than the {width}x{height} frames")
    rng = np.random.default_rng(seed)
    return [(index, int(rng.integers(0, height - size + 1)), int(rng.integers(0, width - size + 1)))
            for index in range(count) for _ in range(CROPS_PER_FRAME)]


def inside(image: np.ndarray, top: int, left: int, size: int) -> np.ndarray:
    """The crop's region of `image`, less the margin."""
    return image[top + MARGIN: top + size - MARGIN, left + MARGIN: left + size - MARGIN]


def measure(checkpoint_path: Path, content: np.ndarray, target: np.ndarray, sizes: list[int], seed: int) -> dict:
    checkpoint = load_checkpoint(checkpoint_path)
    height, width = content.shape[1:3]
    frames = np.clip(checkpoint.build_model(height, width).predict(content, verbose=0), 0, 255)
    result = {"frame_vs_teacher_db": round(float(np.mean([quality.structure_psnr(t, o)
                                                           for t, o in zip(target, frames)])), 2)}
    for size in sizes:
        model = checkpoint.build_model(size, size)
        rows = []
        for index, top, left in crop_boxes(height, width, size, len(content), seed):
            on_crop = np.clip(model.predict(content[index:index + 1, top:top + size, left:left + size],
                                            verbose=0)[0], 0, 255)
            on_crop = on_crop[MARGIN:-MARGIN, MARGIN:-MARGIN]
            on_frame = inside(frames[index], top, left, size)
            teacher = inside(target[index], top, left, size)
            rows.append((quality.structure_psnr(on_frame, on_crop), quality.structure_psnr(teacher, on_crop),
                         quality.structure_psnr(teacher, on_frame)))
        crop_vs_frame, on_crop_db, on_frame_db = np.mean(rows, axis=0)
        result[str(size)] = {"crop_vs_frame_db": round(float(crop_vs_frame), 2),
                             "on_crop_vs_teacher_db": round(float(on_crop_db), 2),
                             "on_frame_vs_teacher_db": round(float(on_frame_db), 2)}
    return result


def named_students(words: list[str]) -> dict[str, Path]:
    """The --student words as {label: checkpoint}; each checkpoint must exist."""
    students = {label: Path(path) for label, path in labelled_values("--student", words, "LABEL=CHECKPOINT.npz").items()}
    for label, path in students.items():
        if not path.is_file():
            raise UserError(f"--student {label}: no checkpoint at {path}")
    return students


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=Path, required=True, help="a distill run's eval_targets.npz")
    parser.add_argument("--student", action="append", required=True, help="LABEL=CHECKPOINT.npz")
    parser.add_argument("--crop", type=int, action="append", required=True, help="crop side in pixels")
    parser.add_argument("--count", type=int, default=8, help="frames to use (the first COUNT)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, help="JSON to write")
    args = parser.parse_args(argv)
    try:
        if args.count < 1:
            raise UserError(f"--count must be at least 1, got {args.count}")
        for size in args.crop:
            if size % 4 or size <= 2 * MARGIN:
                raise UserError(f"--crop must be a multiple of 4 above {2 * MARGIN}, got {size}")
        students = named_students(args.student)
        content, target = read_cached_targets(args.frames, args.count)
        report = {"command": " ".join(["python benchmarks/crop_mismatch.py", shlex.join(portable_words(argv, REPO))]),
                  "frames": len(content), "size": f"{content.shape[2]}x{content.shape[1]}",
                  "crops_per_frame": CROPS_PER_FRAME, "margin": MARGIN, "students": {}}
        for label, path in students.items():
            started = time.monotonic()
            report["students"][label] = measure(path, content, target, args.crop, args.seed)
            print(f"{label}: {json.dumps(report['students'][label])} ({time.monotonic() - started:.0f} s)", flush=True)
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if args.json:
        with atomic_path(args.json) as tmp:
            tmp.write_text(json.dumps(report, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
