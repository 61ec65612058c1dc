"""How much does a teacher's output change when its input changes imperceptibly?

PSNR (dB, 853x480) between teacher(frame) and teacher(perturbed frame), for perturbations a camera
pipeline makes anyway: Gaussian noise of 1 grey level, JPEG re-encoding at quality 95, and a
different resampling filter (bicubic instead of Lanczos) when fitting the photo to 853x480. A
student trained on pixel losses cannot be expected to match the teacher more closely than the
teacher matches itself under such changes.

Usage: python benchmarks/teacher_stability.py --teacher ../shared/data/teachers/ml5/la_muse \
           --photos ../shared/data/content/bsds500/test --count 4
"""

import argparse
import io
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from mobilestyle.images import list_images, load_frame, load_rgb
from mobilestyle.training.distill import psnr_ssim
from mobilestyle.training.targets import stylize_frames
from mobilestyle.training.frames import evenly_spaced
from mobilestyle.training.teachers import load_teacher


def perturbations(path: Path, frame: np.ndarray, rng: np.random.Generator) -> dict[str, np.ndarray]:
    noisy = np.clip(np.rint(frame + rng.normal(0, 1.0, frame.shape)), 0, 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(frame).save(buffer, format="JPEG", quality=95)
    jpeg = np.asarray(Image.open(io.BytesIO(buffer.getvalue())).convert("RGB"))
    bicubic = np.asarray(ImageOps.fit(Image.fromarray(load_rgb(path)), (frame.shape[1], frame.shape[0]),
                                      method=Image.Resampling.BICUBIC))
    return {"noise sigma=1": noisy, "jpeg q95": jpeg, "bicubic fit": bicubic}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--teacher", type=Path, required=True)
    parser.add_argument("--photos", type=Path, required=True)
    parser.add_argument("--count", type=int, default=4)
    args = parser.parse_args()

    model = load_teacher(args.teacher).build_model(480, 853)
    rng = np.random.default_rng(0)
    scores: dict[str, list[float]] = {}
    for path in evenly_spaced(list_images(args.photos), args.count):
        frame = load_frame(path)
        variants = perturbations(path, frame, rng)
        outputs = stylize_frames(model, np.stack([frame, *variants.values()]))
        for name, variant, output in zip(variants, variants.values(), outputs[1:]):
            scores.setdefault(f"input  {name}", []).append(psnr_ssim(frame, variant)[0])
            scores.setdefault(f"output {name}", []).append(psnr_ssim(outputs[0], output)[0])
    print(f"teacher {args.teacher.name}, {args.count} photos from {args.photos}, PSNR dB (mean):")
    for name, values in sorted(scores.items()):
        print(f"  {name:24s} {np.mean(values):6.2f}")


if __name__ == "__main__":
    main()
