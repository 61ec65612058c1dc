"""Copy a finished distillation into models/: `<style>.npz` (fp16 student) and `<style>.json` (metadata).

Usage: python models/ship_style.py --style muse --work /work/runs/muse/muse.distill

The metadata records the source painting and its licence status, the teacher, the recipe (the exact
`mobilestyle distill` command, steps, minutes) and the quality measured by that run: PSNR/SSIM of
student vs teacher at 853x480 on its held-out photos (the BSDS500 test split).
"""

import argparse
import json
import shlex
from pathlib import Path

from mobilestyle.files import atomic_path
from mobilestyle.networks.checkpoint import load_checkpoint, save_checkpoint

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
    parser.add_argument("--work", type=Path, required=True, help="the run's <checkpoint>.distill folder")
    args = parser.parse_args()

    report = json.loads((args.work / "report.json").read_text())
    info = STYLES[args.style]
    checkpoint = load_checkpoint(Path(report["checkpoint"]))
    quality = {"psnr_db": report["eval"]["psnr_db"], "ssim": report["eval"]["ssim"],
               "frames": report["eval"]["frames"], "size": report["eval"]["size"],
               "held_out": "BSDS500 test split (evenly spaced photos, 16:9 centre crop)",
               "measured_by": "mobilestyle distill's final report (student vs teacher)"}
    metadata = {
        "style": args.style, "checkpoint": f"{args.style}.npz", "source_painting": info["painting"],
        "public_domain": info["public_domain"], "licence": info["licence"],
        "teacher": TEACHER_SOURCE.format(name=info["teacher"]), "student_arch": report["student_arch"],
        "recipe": {"command": command_line(report["recipe"]), "steps": report["steps"],
                   "minutes": report["minutes"], "steps_per_second": report["steps_per_second"],
                   "machine": "shared 2-core CPU, no GPU"},
        "quality": quality,
    }
    checkpoint.meta.update({"style": args.style, "source_painting": info["painting"], "licence": info["licence"],
                            "quality": quality})
    save_checkpoint(checkpoint, MODELS / f"{args.style}.npz", fp16=True)
    with atomic_path(MODELS / f"{args.style}.json") as tmp:
        tmp.write_text(json.dumps(metadata, indent=2) + "\n")
    print(f"shipped {args.style}: PSNR {quality['psnr_db']} dB, SSIM {quality['ssim']} -> {MODELS}")


if __name__ == "__main__":
    main()
