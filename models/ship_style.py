"""Copy a distilled student into models/: `<style>.npz` (fp16 student) and `<style>.json` (metadata).

Usage (from the repository root):

    python models/ship_style.py --style muse --checkpoint runs/muse/muse.npz \\
        [--teacher ../shared/data/teachers/ml5/la_muse] [--vgg-weights FILE]
    python models/ship_style.py --rewrite-paths [--style muse]

The checkpoint is the `--out` of a `mobilestyle distill` run (finished, or its latest periodic save).
The metadata records the source painting and its licence status, the teacher, the recipe (the
`mobilestyle distill` command that reproduces the run, every option written out, steps, minutes) and
the quality, measured here on the shipped fp16 weights against the teacher's frames cached in the
run's work folder (`eval_targets.npz`; for the shipped styles, the BSDS500 test split), at the size
they were made (853x480): the figures of `mobilestyle evaluate` (structure PSNR, texture, detail
ratio, borders of student and teacher, PSNR, SSIM; `mobilestyle.training.quality`), the photos' own
border departure (`photo_border`), and calibration rows in the layout `mobilestyle styles` reads: a
sigma-2 blur of the teacher's frame (always), and the teacher against itself on a 2-px-shifted input
(only with `--teacher`: it runs the teacher once more per frame, reflect-padded as the run padded it).
With `--teacher`, `against_raw_teacher` adds the student's figures against the teacher's raw frames
(no padding: the zero-padding bands along the edges that the run's targets left out), which is what
`mobilestyle evaluate --teacher-pad 0` and any executor that runs the teacher as it is will report.

Paths are recorded portably (`mobilestyle.portable_paths`, relative to the repository root): no
absolute path of this machine goes into the JSON or the npz header. `--rewrite-paths` re-records
already-shipped styles that way (the recipe in the npz header, the JSON's command and held-out
folder) without touching their weights, and checks that every weight array stays bit-identical.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from dataclasses import fields
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.progress import Progress

from mobilestyle.errors import UserError
from mobilestyle.evaluation.evaluate import (BLURRED, PHOTO, SHIFTED, Student, Teacher, calibration_scores,
                                             checkpoint_student, load_teacher_net, to_uint8)
from mobilestyle.evaluation.report import clean, style_quality
from mobilestyle.files import atomic_path
from mobilestyle.networks.checkpoint import as_float16, load_checkpoint, save_checkpoint
from mobilestyle.portable_paths import portable, portable_path
from mobilestyle.progress import eta_progress
from mobilestyle.styles import SHIFTED_CALIBRATION, teacher_folder
from mobilestyle.training.distill import DistillConfig, work_dir
from mobilestyle.training.quality import CALIBRATION_BLUR_SIGMA, blur, grams, mean_scores, score
from mobilestyle.training.vgg import TEXTURE_LAYERS, LossNetwork, load_loss_network

MODELS = Path(__file__).resolve().parent
REPO = MODELS.parent
DEFAULT_VGG_WEIGHTS = "../shared/data/vgg/vgg19_conv1_1-conv3_4_keras_hwio.npz"  # relative to the repository root
MACHINE = "shared 2-core CPU, no GPU"
# Each style's painting and licence; its teacher is `mobilestyle.styles.teacher_folder(style)`.
STYLES = {
    "muse": {"painting": "La Muse, Pablo Picasso (1935)", "public_domain": False,
             "licence": "copyrighted painting (Picasso); research use only, do not ship in a product"},
    "scream": {"painting": "The Scream, Edvard Munch (1893)", "public_domain": True,
               "licence": "public domain painting"},
    "wave": {"painting": "The Great Wave off Kanagawa, Katsushika Hokusai (c. 1831)", "public_domain": True,
             "licence": "public domain painting"},
    "udnie": {"painting": "Udnie (Young American Girl, The Dance), Francis Picabia (1913)", "public_domain": True,
              "licence": "public domain painting"},
    "wreck": {"painting": "The Shipwreck of the Minotaur, J. M. W. Turner (c. 1810)", "public_domain": True,
              "licence": "public domain painting"},
    "rain_princess": {"painting": "Rain Princess, Leonid Afremov", "public_domain": False,
                      "licence": "copyrighted painting (Afremov); research use only, do not ship in a product"},
}
# The extra: muse with instance norm (each frame normalised by its own statistics, as the teacher does).
STYLES["muse_instance"] = STYLES["muse"]
TEACHER_SOURCE = ("ml5js/ml5-data-and-models models/style-transfer/{name} (a conversion of "
                  "lengstrom/fast-style-transfer's checkpoint; research use)")
# The mean |difference| (0..255) allowed between --teacher's frame and the run's cached one (rounding only).
TEACHER_TOLERANCE = 1.0

# Recipe fields that are written first or last, or are no `mobilestyle distill` option at all.
_PLACED = ("teacher", "content_dirs", "out", "fp16")
_NOT_OPTIONS = ("resume", "frame_width", "frame_height")
# Options whose flag is not the field's name with dashes.
_FLAGS = {"eval_every_minutes": "eval-every", "checkpoint_every_minutes": "checkpoint-every"}
# What a run recorded before the loss-weight options existed (no `pixel_weight` in its recipe; its
# --preset was scratch or teacher) did: pixel MSE only, the teacher run on the frame without
# padding, each batch's own batch-norm statistics unless its recipe says otherwise. Its feature
# loss (VGG relu2_2 MSE) was on only with --vgg-weights; today's feature loss is another one.
OLD_RECIPE = {"pixel_weight": 1.0, "lowpass_weight": 0.0, "lowpass_sigma": 2.0, "feature_weight": 0.0,
              "gram_weight": 0.0, "tv_weight": 0.0, "teacher_pad": 0, "norm_stats": "batch"}


def full_recipe(recipe: dict) -> dict:
    """`recipe` with every option its run used; an old recipe gets the values of `OLD_RECIPE`."""
    if "pixel_weight" in recipe:
        return dict(recipe)
    values = {**OLD_RECIPE, **{key: value for key, value in recipe.items() if key not in OLD_RECIPE}}
    if recipe.get("norm_stats") is not None:
        values["norm_stats"] = recipe["norm_stats"]
    if recipe.get("vgg_weights"):
        values["feature_weight"] = recipe.get("feature_weight", 0.0)
    return values


def _word(value) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def command_line(recipe: dict, base: Path = REPO) -> str:
    """The `mobilestyle distill` command that reproduces the run, whatever `--preset` is the default.

    Every option is written out (loss weights, low-pass sigma, teacher padding, init, batch-norm
    statistics included); paths are made portable against `base` (the repository root).
    """
    values = portable(full_recipe(recipe), base)
    words = ["mobilestyle", "distill", "--teacher", str(values["teacher"])]
    for folder in values["content_dirs"]:
        words += ["--content-dir", str(folder)]
    order = [field.name for field in fields(DistillConfig)]
    keys = [key for key in order if key in values] + [key for key in values if key not in order]
    for key in keys:
        value = values[key]
        if key in _PLACED or key in _NOT_OPTIONS or value is None or value is False:
            continue
        flag = f"--{_FLAGS.get(key, key.replace('_', '-'))}"
        words += [flag] if value is True else [flag, _word(value)]
    words += ["--out", str(values["out"])]
    if values.get("fp16"):
        words.append("--fp16")
    return shlex.join(words)


def held_out_text(recipe: dict, frames: int, base: Path = REPO) -> str:
    folder = recipe.get("eval_dir")
    where = portable_path(folder, base) if folder else "every 10th content photo"
    return f"{where} ({frames} evenly spaced, 16:9 centre crop)"


def check_teacher(teacher: Teacher, photo: np.ndarray, cached: np.ndarray, recorded: str) -> None:
    """Fail when `teacher` does not make the run's cached frame for `photo` (another teacher or padding)."""
    difference = float(np.mean(np.abs(teacher.run(photo).astype(np.int16) - cached.astype(np.int16))))
    if difference > TEACHER_TOLERANCE:
        raise UserError(f"--teacher {teacher.source} does not reproduce the run's cached teacher frames (mean "
                        f"difference {difference:.1f} of 255); the run's teacher was {recorded}")


def measure_quality(student: Student, content: np.ndarray, target: np.ndarray, network: LossNetwork,
                    teacher: Teacher | None = None, progress: Progress | None = None) -> dict:
    """The student's mean figures against the cached teacher frames, with calibration, as a style's "quality".

    Scored per frame like `mobilestyle evaluate` (`quality.score`, `calibration_scores`) and laid out
    by its `style_quality`; without a teacher the shifted-teacher row is left out.
    """
    students, rows = [], {SHIFTED: [], BLURRED: [], PHOTO: []}
    task = progress.add_task("measuring", total=len(content)) if progress is not None else None
    for photo, teacher_frame in zip(content, target):
        teacher_grams = grams(network, teacher_frame)
        students.append(score(teacher_frame, student.run(photo), network, teacher_grams))
        if teacher is not None:
            calibration = calibration_scores(teacher, photo, teacher_frame, network, teacher_grams)
        else:  # the rows of `calibration_scores` that need no run of the teacher
            blurred = to_uint8(blur(teacher_frame, CALIBRATION_BLUR_SIGMA))
            calibration = {BLURRED: score(teacher_frame, blurred, network, teacher_grams),
                           PHOTO: score(teacher_frame, photo, network, teacher_grams)}
        for row, scores in calibration.items():
            rows[row].append(scores)
        if task is not None:
            progress.advance(task)
    means = {row: mean_scores(scores) for row, scores in rows.items() if scores}
    size = (content.shape[2], content.shape[1])
    quality = style_quality(mean_scores(students), {SHIFTED: means.get(SHIFTED, {}), BLURRED: means[BLURRED]},
                            len(content), size)
    if SHIFTED not in means:
        del quality["calibration"][SHIFTED_CALIBRATION]
    quality["photo_border"] = means[PHOTO]["border"]
    return clean(quality)


def raw_teacher_scores(student: Student, content: np.ndarray, teacher_path: Path, network: LossNetwork,
                       progress: Progress | None = None) -> dict:
    """The student's mean figures against the teacher's unpadded frames (its edge bands included)."""
    size = (content.shape[2], content.shape[1])
    raw = load_teacher_net(teacher_path, size, pad=0)
    task = progress.add_task("against the raw teacher", total=len(content)) if progress is not None else None
    scores = []
    for photo in content:
        scores.append(score(raw.run(photo), student.run(photo), network))
        if task is not None:
            progress.advance(task)
    means = mean_scores(scores)
    return clean({"structure_psnr": means["structure_psnr"], "gram_distance": means["gram_distance"],
                  "detail_ratio": means["detail_ratio"], "border": means["border"],
                  "teacher_border": means["reference_border"], "psnr": means["psnr"], "ssim": means["ssim"]})


REPLACED_NOTE = "this path now holds a later file (the run's own result was shipped over it); see git's history"


def recorded_links(metadata: dict | None) -> dict[str, dict]:
    """Each link of a shipped style's recorded chain (`recipe.started_from`...), by its checkpoint's path."""
    links, link = {}, (metadata or {}).get("recipe", {}).get("started_from")
    while isinstance(link, dict) and isinstance(link.get("checkpoint"), str):
        links.setdefault(link["checkpoint"], link)
        link = link.get("started_from")
    return links


def started_from(recipe: dict, base: Path = REPO, seen: frozenset = frozenset(),
                 replaced: frozenset = frozenset(), recorded: dict[str, dict] | None = None) -> dict | None:
    """Where a run that continued a checkpoint (`--init FILE.npz`) started: that file's own recipe, steps and
    minutes, and where it started in turn, so that the chain of commands reproduces the shipped file.

    A run may start from the file it then replaces (`--init models/muse.npz`, shipped back to
    models/muse.npz): such a link is marked, since the path no longer holds that file (`replaced`: the
    files this shipping overwrites), and the chain stops where a path comes round again. A file no longer on
    this machine (runs/ is not kept between machines) takes its link from `recorded`, the chain the shipped
    style's metadata already holds (`recorded_links`), so a re-shipping keeps the older commands."""
    init = recipe.get("init")
    if not isinstance(init, str) or not init.endswith(".npz"):
        return None
    path = Path(init) if Path(init).is_absolute() else base / init
    history = {"checkpoint": portable_path(path, base)}
    if path.resolve() in seen | replaced:
        history["replaced"] = REPLACED_NOTE
    if path.resolve() in seen:
        return history
    if not path.is_file():
        return (recorded or {}).get(history["checkpoint"], history)
    meta = load_checkpoint(path).meta
    earlier = meta.get("recipe")
    if isinstance(earlier, dict):
        history.update({"command": command_line(earlier, base), "steps": meta.get("steps"),
                        "minutes": meta.get("minutes"),
                        "started_from": started_from(earlier, base, seen | {path.resolve()}, replaced, recorded)})
    return clean({key: value for key, value in history.items() if value is not None})


def style_metadata(style: str, meta: dict, quality: dict, base: Path = REPO, shipped: Path | None = None,
                   recorded: dict[str, dict] | None = None) -> dict:
    """`shipped`: the file this metadata will sit beside, if it replaces one a run started from; `recorded`:
    the links of the metadata it replaces (`recorded_links`)."""
    info = STYLES[style]
    recipe = meta["recipe"]
    run = {"command": command_line(recipe, base), "steps": meta["steps"], "minutes": meta["minutes"],
           "finished": meta.get("final", False), "machine": MACHINE}
    history = started_from(recipe, base, replaced=frozenset({shipped.resolve()}) if shipped else frozenset(),
                           recorded=recorded)
    if history is not None:
        run["started_from"] = history
    return {
        "style": style, "checkpoint": f"{style}.npz", "source_painting": info["painting"],
        "public_domain": info["public_domain"], "licence": info["licence"],
        "teacher": TEACHER_SOURCE.format(name=teacher_folder(style)), "student_arch": recipe["arch"],
        "recipe": run,
        "quality": quality,
    }


def ship(style: str, checkpoint_path: Path, vgg_weights: Path, teacher_path: Path | None = None,
         models: Path = MODELS, base: Path = REPO, console: Console | None = None) -> dict:
    """Write models/<style>.npz and .json (both or neither); returns the metadata."""
    console = console or Console()
    checkpoint = load_checkpoint(checkpoint_path)
    recipe = checkpoint.meta.get("recipe")
    if not isinstance(recipe, dict):
        raise UserError(f"{checkpoint_path} has no distillation recipe: give the --out of a mobilestyle distill run")
    cache = work_dir(checkpoint_path) / "eval_targets.npz"
    if not cache.is_file():
        raise UserError(f"{cache} does not exist: the run's cached held-out frames are needed")
    with np.load(cache, allow_pickle=False) as data:
        content, target = data["content"], data["target"]
    size = (content.shape[2], content.shape[1])
    checkpoint.weights = {key: as_float16(value).astype(np.float32) for key, value in checkpoint.weights.items()}
    student = checkpoint_student(checkpoint, style, style, size)
    network = load_loss_network(vgg_weights, TEXTURE_LAYERS)
    teacher = None
    if teacher_path is not None:
        teacher = load_teacher_net(teacher_path, size, int(full_recipe(recipe)["teacher_pad"]))
        check_teacher(teacher, content[0], target[0], portable_path(recipe["teacher"], base))
    with eta_progress(console) as progress:
        quality = measure_quality(student, content, target, network, teacher, progress)
        if teacher_path is not None:
            quality["against_raw_teacher"] = raw_teacher_scores(student, content, teacher_path, network, progress)
    quality.update({"held_out": held_out_text(recipe, len(content), base), "loss_network": network.describe(),
                    "measured_by": "models/ship_style.py on the shipped fp16 weights, student vs the teacher's "
                                   "frames cached by the run" + ("" if teacher else
                                                                 "; teacher_shifted not measured (no --teacher)")})
    checkpoint.meta.update({"style": style, "source_painting": STYLES[style]["painting"],
                            "licence": STYLES[style]["licence"], "quality": quality})
    checkpoint.meta = portable(checkpoint.meta, base)
    shipped = models / f"{style}.npz"
    previous = models / f"{style}.json"
    recorded = recorded_links(json.loads(previous.read_text())) if previous.is_file() else {}
    metadata = style_metadata(style, checkpoint.meta, quality, base, shipped, recorded)
    with atomic_path(shipped) as npz_tmp, atomic_path(models / f"{style}.json") as json_tmp:
        save_checkpoint(checkpoint, npz_tmp, fp16=True)
        json_tmp.write_text(json.dumps(metadata, indent=2) + "\n")
    return metadata


def weight_arrays(path: Path) -> dict[str, np.ndarray]:
    """Every array of a checkpoint file but its header, exactly as stored (dtype included)."""
    with np.load(path, allow_pickle=False) as data:
        return {key: data[key] for key in data.files if key != "__mobilestyle__"}


def same_arrays(before: dict[str, np.ndarray], after: dict[str, np.ndarray]) -> bool:
    return before.keys() == after.keys() and all(
        before[key].dtype == after[key].dtype and before[key].shape == after[key].shape
        and before[key].tobytes() == after[key].tobytes() for key in before)


def rewrite_paths(style: str, models: Path = MODELS, base: Path = REPO) -> None:
    """Re-record a shipped style's paths portably (npz header and JSON), leaving its weights bit-identical."""
    shipped, info_path = models / f"{style}.npz", models / f"{style}.json"
    if not info_path.is_file():
        raise UserError(f"{info_path} does not exist")
    before = weight_arrays(shipped)
    checkpoint = load_checkpoint(shipped)
    info = json.loads(info_path.read_text())
    recipe = portable(checkpoint.meta["recipe"], base)

    def portable_quality(quality: dict) -> dict:
        if "held_out" in quality:
            quality = {**quality, "held_out": held_out_text(recipe, quality["frames"], base)}
        return portable(quality, base)

    checkpoint.meta = portable({**checkpoint.meta, "recipe": recipe}, base)
    info = portable({**info, "recipe": {**info["recipe"], "command": command_line(recipe, base)}}, base)
    for metadata in (checkpoint.meta, info):
        if isinstance(metadata.get("quality"), dict):
            metadata["quality"] = portable_quality(metadata["quality"])
    with atomic_path(shipped) as npz_tmp, atomic_path(info_path) as json_tmp:
        save_checkpoint(checkpoint, npz_tmp, fp16=True)
        if not same_arrays(before, weight_arrays(npz_tmp)):
            raise UserError(f"{shipped}: rewriting the header would change the weights; nothing written")
        json_tmp.write_text(json.dumps(info, indent=2) + "\n")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--style", choices=sorted(STYLES), help="the style to ship (or to rewrite)")
    parser.add_argument("--checkpoint", type=Path, help="the --out of a mobilestyle distill run")
    parser.add_argument("--vgg-weights", type=Path, default=REPO / DEFAULT_VGG_WEIGHTS,
                        help=f"VGG19 to block3_conv4 for the texture measure (default: {DEFAULT_VGG_WEIGHTS} "
                             "from the repository root)")
    parser.add_argument("--teacher", type=Path,
                        help="the run's teacher: adds the calibration row of the teacher against itself on a "
                             "2-px-shifted input (one more teacher run per frame)")
    parser.add_argument("--rewrite-paths", action="store_true",
                        help="re-record the shipped styles (or --style) with portable paths; weights untouched")
    args = parser.parse_args(argv)
    console = Console()
    try:
        if args.rewrite_paths:
            styles = [args.style] if args.style else sorted(path.stem for path in MODELS.glob("*.npz"))
            for style in styles:
                rewrite_paths(style)
                console.print(f"rewrote the paths of {style} (weights unchanged)")
            return
        if args.style is None or args.checkpoint is None:
            raise UserError("give --style and --checkpoint (or --rewrite-paths)")
        metadata = ship(args.style, args.checkpoint, args.vgg_weights, args.teacher, console=console)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(1)
    quality = metadata["quality"]
    console.print(f"shipped {args.style} (step {metadata['recipe']['steps']}) on {quality['frames']} held-out frames: "
                  f"structure {quality['structure_psnr']} dB, texture {quality['gram_distance']}, detail "
                  f"{quality['detail_ratio']}, border {quality['border']} (teacher {quality['reference_border']}), "
                  f"PSNR {quality['psnr_db']} dB, SSIM {quality['ssim']} -> {MODELS / (args.style + '.npz')}",
                  highlight=False)


if __name__ == "__main__":
    main()
