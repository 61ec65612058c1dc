"""Copy a distilled student into models/: `<style>.npz` (fp16 student) and `<style>.json` (metadata).

Usage: python models/ship_style.py --style muse --checkpoint /work/runs/muse_init/muse.npz

The checkpoint is the `--out` of a `mobilestyle distill` run (finished, or its latest periodic save).
The metadata records the source painting and its licence status, the teacher, the recipe (the exact
`mobilestyle distill` command, steps, minutes) and the quality, measured here on the shipped fp16
weights: PSNR/SSIM of student vs teacher at 853x480 on the run's held-out frames (the teacher's
frames cached in the run's work folder; for the shipped styles, the BSDS500 test split).
"""

import argparse
import json
import shlex
from pathlib import Path

import numpy as np

from mobilestyle.files import atomic_path
from mobilestyle.networks.checkpoint import as_float16, load_checkpoint, save_checkpoint
from mobilestyle.training.distill import evaluate, work_dir

MODELS = Path(__file__).resolve().parent
STYLES = {
    "muse": {"painting": "La Muse, Pablo Picasso (1935)", "teacher": "la_muse", "public_domain": False,
             "licence": "copyrighted painting (Picasso); research use only, do not ship in a product"},
    "scream": {"painting": "The Scream, Edvard Munch (1893)", "teacher": "scream", "public_domain": True,
               "licence": "public domain painting"},
    "wave": {"painting": "The Great Wave off Kanagawa, Katsushika Hokusai (c. 1831)", "teacher": "wave",
             "public_domain": True, "licence": "public domain painting"},
    "udnie": {"painting": "Udnie (Young American Girl, The Dance), Francis Picabia (1913)", "teacher": "udnie",
              "public_domain": True, "licence": "public domain painting"},
    "wreck": {"painting": "The Shipwreck of the Minotaur, J. M. W. Turner (c. 1810)", "teacher": "wreck",
              "public_domain": True, "licence": "public domain painting"},
}
TEACHER_SOURCE = ("ml5js/ml5-data-and-models models/style-transfer/{name} (a conversion of "
                  "lengstrom/fast-style-transfer's checkpoint; research use)")


def command_line(recipe: dict) -> str:
    words = ["mobilestyle", "distill", "--teacher", recipe["teacher"]]
    for folder in recipe["content_dirs"]:
        words += ["--content-dir", folder]
    options = {"eval-dir": recipe["eval_dir"], "eval-images": recipe["eval_images"],
               "train-images": recipe["train_images"], "arch": recipe["arch"], "steps": recipe["steps"],
               "minutes": recipe["minutes"], "batch-size": recipe["batch_size"], "crop-size": recipe["crop_size"],
               "lr": recipe["lr"], "seed": recipe["seed"], "init": recipe["init"], "vgg-weights": recipe["vgg_weights"],
               "norm-stats": None if recipe.get("norm_stats", "batch") == "batch" else recipe["norm_stats"],
               "out": recipe["out"]}
    for key, value in options.items():
        if value is not None:
            words += [f"--{key}", str(value)]
    if recipe.get("fp16"):
        words.append("--fp16")
    return shlex.join(words)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--style", required=True, choices=sorted(STYLES))
    parser.add_argument("--checkpoint", type=Path, required=True, help="the --out of a mobilestyle distill run")
    args = parser.parse_args()

    info = STYLES[args.style]
    checkpoint = load_checkpoint(args.checkpoint)
    recipe = checkpoint.meta["recipe"]
    shipped = MODELS / f"{args.style}.npz"
    checkpoint.weights = {key: as_float16(value).astype(np.float32) for key, value in checkpoint.weights.items()}
    with np.load(work_dir(args.checkpoint) / "eval_targets.npz", allow_pickle=False) as data:
        content, target = data["content"], data["target"]
    model = checkpoint.build_model(content.shape[1], content.shape[2])
    psnr, ssim, _ = evaluate(model, content, target)
    quality = {"psnr_db": round(psnr, 2), "ssim": round(ssim, 4), "frames": len(content),
               "size": f"{content.shape[2]}x{content.shape[1]}",
               "held_out": f"{recipe['eval_dir'] or 'every 10th content photo'} "
                           f"({len(content)} evenly spaced, 16:9 centre crop)",
               "measured_by": "models/ship_style.py on the shipped fp16 weights, student vs teacher"}
    metadata = {
        "style": args.style, "checkpoint": shipped.name, "source_painting": info["painting"],
        "public_domain": info["public_domain"], "licence": info["licence"],
        "teacher": TEACHER_SOURCE.format(name=info["teacher"]), "student_arch": recipe["arch"],
        "recipe": {"command": command_line(recipe), "steps": checkpoint.meta["steps"],
                   "minutes": checkpoint.meta["minutes"], "finished": checkpoint.meta.get("final", False),
                   "machine": "shared 2-core CPU, no GPU"},
        "quality": quality,
    }
    checkpoint.meta.update({"style": args.style, "source_painting": info["painting"], "licence": info["licence"],
                            "quality": quality})
    save_checkpoint(checkpoint, shipped, fp16=True)
    with atomic_path(MODELS / f"{args.style}.json") as tmp:
        tmp.write_text(json.dumps(metadata, indent=2) + "\n")
    print(f"shipped {args.style} (step {checkpoint.meta['steps']}): PSNR {quality['psnr_db']} dB, "
          f"SSIM {quality['ssim']} on {len(content)} held-out frames -> {shipped}")


if __name__ == "__main__":
    main()
