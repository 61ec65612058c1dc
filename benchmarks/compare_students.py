"""Several students on one distillation run's held-out frames: the quality measures side by side.

Usage:
  python benchmarks/compare_students.py --frames runs/muse/muse.distill/eval_targets.npz \
      --student "before=OLD.npz" --student "perceptual=runs/muse/muse.npz" \
      --vgg-weights ../shared/data/vgg/vgg19_conv1_1-conv3_4_keras_hwio.npz --out benchmarks/perceptual_muse_compare.json

`--frames` is the `eval_targets.npz` a `mobilestyle distill` run caches (content frames and the
teacher's frames), so every student is judged against the same teacher frames; its `targets.npz`
(the training frames; `--count` takes the first few) shows how well a student fits what it trained on.
The photos' own border departure is printed as the bar for the students' borders. (An old shipped checkpoint is in
git: `git show REV:models/muse.npz > OLD.npz`.)
"""

import argparse
import json
import time
from pathlib import Path

import numpy as np

from mobilestyle.networks.checkpoint import load_checkpoint
from mobilestyle.training import distill_report, quality
from mobilestyle.training.vgg import TEXTURE_LAYERS, load_loss_network


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=Path, required=True, help="a distill run's eval_targets.npz")
    parser.add_argument("--student", action="append", required=True, help="LABEL=CHECKPOINT.npz")
    parser.add_argument("--vgg-weights", type=Path, required=True)
    parser.add_argument("--count", type=int, default=0, help="use the first COUNT frames (0: all)")
    parser.add_argument("--out", type=Path, required=True, help="JSON to write")
    args = parser.parse_args()

    with np.load(args.frames, allow_pickle=False) as data:
        frames = slice(args.count or None)
        content, target = data["content"][frames], data["target"][frames]
    network = load_loss_network(args.vgg_weights, TEXTURE_LAYERS)
    results = {}
    for item in args.student:
        label, _, path = item.partition("=")
        model = load_checkpoint(path).build_model(content.shape[1], content.shape[2])
        started = time.monotonic()
        results[label], _ = distill_report.measure(model, content, target, network)
        print(f"{label}: {json.dumps(results[label])} ({time.monotonic() - started:.0f} s)", flush=True)
    results["photo_border"] = round(float(np.mean([quality.border_departure(frame) for frame in content])), 4)
    print(f"photo border {results['photo_border']} on {len(content)} frames")
    args.out.write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
