"""The named styles: checkpoints shipped in the project's `models/` folder, and ones cached by `build`.

A style NAME is `models/NAME.npz` (the student checkpoint) with `models/NAME.json` (source painting,
licence status, teacher, recipe, measured quality). `MOBILESTYLE_MODELS` points at another folder.
Styles trained by `mobilestyle build --style-image` are cached in `~/.cache/mobilestyle/styles`
(`MOBILESTYLE_CACHE` overrides it).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from mobilestyle.errors import UserError

# A style's JSON "quality": `psnr_db` and `ssim` (student vs teacher, from distillation), and where the
# style was measured by `mobilestyle evaluate` or a distillation report, the means of
# `mobilestyle.training.quality.Scores` under their own names (structure_psnr, gram_distance, detail_ratio,
# border, reference_border, psnr, ssim); `mobilestyle evaluate` adds `calibration`:
# {"teacher_shifted": {...}, "teacher_blurred": {...}} with the same names.
SHIFTED_CALIBRATION, BLURRED_CALIBRATION = "teacher_shifted", "teacher_blurred"

# The ml5 teacher each shipped style was distilled from: its folder in ml5js/ml5-data-and-models
# models/style-transfer/, named like the style but for muse and its instance-norm extra.
TEACHER_FOLDERS = {"muse": "la_muse", "scream": "scream", "udnie": "udnie", "wave": "wave", "wreck": "wreck",
                   "rain_princess": "rain_princess", "muse_instance": "la_muse"}


@dataclass(frozen=True)
class Style:
    name: str
    checkpoint: Path
    info: dict

    @property
    def shipped(self) -> bool:
        return self.checkpoint.parent == shipped_models_dir()


def shipped_models_dir() -> Path:
    override = os.environ.get("MOBILESTYLE_MODELS")
    if override:
        return Path(override)
    for parent in Path(__file__).resolve().parents:
        if (parent / "models").is_dir() and (parent / "pyproject.toml").is_file():
            return parent / "models"
    return Path(__file__).resolve().parent / "models"


def cache_dir() -> Path:
    return Path(os.environ.get("MOBILESTYLE_CACHE", Path.home() / ".cache" / "mobilestyle")) / "styles"


def _styles_in(folder: Path) -> dict[str, Style]:
    styles = {}
    if folder.is_dir():
        for checkpoint in sorted(folder.glob("*.npz")):
            info_path = checkpoint.with_suffix(".json")
            try:
                info = json.loads(info_path.read_text()) if info_path.is_file() else {}
            except ValueError:
                info = {}
            styles[checkpoint.stem] = Style(checkpoint.stem, checkpoint, info)
    return styles


def available_styles() -> dict[str, Style]:
    """Every named style; a shipped style wins over a cached one of the same name."""
    return {**_styles_in(cache_dir()), **_styles_in(shipped_models_dir())}


def find_style(name: str) -> Style:
    styles = available_styles()
    if name not in styles:
        known = ", ".join(sorted(styles)) or "none"
        raise UserError(f"unknown style {name!r}; known styles: {known} "
                        f"(or train one: mobilestyle build --style {name} --style-image PAINTING)")
    return styles[name]


def teacher_folder(style: str) -> str:
    """The ml5 teacher folder name of a shipped style (a `--teacher` folder holds that model)."""
    if style not in TEACHER_FOLDERS:
        raise UserError(f"no ml5 teacher is known for style {style!r}; shipped styles: {', '.join(TEACHER_FOLDERS)}")
    return TEACHER_FOLDERS[style]
