"""Which 3 of a teacher's 5 residual blocks keep most of its output? (instance norm, no training)

    python benchmarks/block_subsets.py --teacher ../shared/data/teachers/ml5/la_muse \
        --targets runs/muse/muse.distill/eval_targets.npz

`--targets` is a distillation work folder's cached held-out frames (content and teacher output at
853x480); the first `CURVE_FRAMES` evenly spaced frames are used, as in the distillation curve. Each
row copies the teacher's stem, decoder and the chosen blocks (renumbered 1-3) and prints the PSNR and
SSIM of that 3-block net against the full teacher. `--init teacher` copies blocks 1-3.
"""

import argparse
import itertools
from pathlib import Path

import numpy as np

from mobilestyle.training.distill import CURVE_FRAMES, evaluate
from mobilestyle.training.frames import evenly_spaced
from mobilestyle.training.teachers import keep_blocks, load_teacher


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--teacher", type=Path, required=True)
    parser.add_argument("--targets", type=Path, required=True, help="a distillation run's eval_targets.npz")
    parser.add_argument("--keep", type=int, default=3, help="blocks to keep")
    args = parser.parse_args()
    teacher = load_teacher(args.teacher)
    with np.load(args.targets, allow_pickle=False) as data:
        content, target = data["content"], data["target"]
    picked = evenly_spaced(list(range(len(content))), CURVE_FRAMES)
    content, target = content[picked], target[picked]
    print("| blocks kept | PSNR | SSIM |\n|---|---|---|")
    for subset in itertools.combinations(range(1, teacher.arch.blocks + 1), args.keep):
        model = keep_blocks(teacher, subset).build_model(content.shape[1], content.shape[2])
        psnr, ssim, _ = evaluate(model, content, target)
        print(f"| {', '.join(map(str, subset))} | {psnr:.2f} dB | {ssim:.3f} |", flush=True)


if __name__ == "__main__":
    main()
