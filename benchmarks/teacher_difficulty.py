"""How hard is each teacher to distil? Two proxies, per ml5 teacher, on BSDS test frames.

- `blur2`: PSNR (dB) of the teacher's frame against the same frame blurred by a Gaussian of sigma
  2 px. A low figure means much of the frame is fine, high-contrast texture: a student that gets
  every stroke's shape right but blurs it by 2 px already scores no better than this.
- `3 of 5 blocks`: PSNR of the teacher with residual blocks 4 and 5 removed (no retraining)
  against the whole teacher: how much of the look depends on the depth a 3-block student lacks.

Usage: python benchmarks/teacher_difficulty.py --teachers ../shared/data/teachers/ml5 \
           --photos ../shared/data/content/bsds500/test --count 6 [--width 853 --height 480]
"""

import argparse
from pathlib import Path

import cv2
import numpy as np

from mobilestyle.images import list_images, load_frame
from mobilestyle.training.distill import psnr_ssim
from mobilestyle.training.targets import stylize_frames
from mobilestyle.training.frames import evenly_spaced
from mobilestyle.training.teachers import keep_blocks, load_teacher


def mean_psnr(references: np.ndarray, images: np.ndarray) -> float:
    return float(np.mean([psnr_ssim(a, b)[0] for a, b in zip(references, images)]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--teachers", type=Path, required=True, help="folder of ml5 teacher folders")
    parser.add_argument("--photos", type=Path, required=True)
    parser.add_argument("--count", type=int, default=6)
    parser.add_argument("--width", type=int, default=853)
    parser.add_argument("--height", type=int, default=480)
    args = parser.parse_args()

    frames = np.stack([load_frame(path, args.width, args.height)
                       for path in evenly_spaced(list_images(args.photos), args.count)])
    print(f"{args.count} photos from {args.photos} at {args.width}x{args.height}, mean PSNR dB")
    print(f"{'teacher':16s} {'blur2':>7s} {'3 of 5 blocks':>14s}")
    for folder in sorted(path for path in args.teachers.iterdir() if (path / "manifest.json").is_file()):
        teacher = load_teacher(folder)
        styled = stylize_frames(teacher.build_model(args.height, args.width), frames)
        blurred = np.stack([cv2.GaussianBlur(image, (0, 0), 2) for image in styled])
        shallow = stylize_frames(keep_blocks(teacher, (1, 2, 3)).build_model(args.height, args.width), frames)
        print(f"{folder.name:16s} {mean_psnr(styled, blurred):7.2f} {mean_psnr(styled, shallow):14.2f}", flush=True)


if __name__ == "__main__":
    main()
