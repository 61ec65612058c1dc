"""Reading any reasonable photo as 8-bit RGB, fitting it to the model's frame, writing PNGs safely.

Odd but valid images are converted, not rejected: alpha (composited on white), palette, grayscale,
16-bit and float images (rescaled to 8 bits), CMYK, EXIF-rotated photos and very large files.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from mobilestyle import frame
from mobilestyle.errors import UserError
from mobilestyle.files import atomic_path

MIN_SIDE = 16
MAX_PIXELS = 40_000 * 40_000
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm", ".pnm"}

Image.MAX_IMAGE_PIXELS = MAX_PIXELS


def _to_rgb(image: Image.Image) -> Image.Image:
    if image.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        values = np.asarray(image, dtype=np.float64)
        top = 65535.0 if image.mode.startswith("I;16") or values.max() > 255 else 255.0
        if image.mode == "F":
            top = max(float(values.max()), 1.0) if values.max() > 1.0 else 1.0
        gray = np.clip(np.round(values * (255.0 / top)), 0, 255).astype(np.uint8)
        return Image.fromarray(gray, "L").convert("RGB")
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")


def load_rgb(path: Path, fit_within: tuple[int, int] | None = None) -> np.ndarray:
    """Read `path` as an HxWx3 uint8 RGB array, upright per its EXIF orientation.

    `fit_within` (width, height) lets large JPEGs decode at a reduced scale that still covers it.
    """
    path = Path(path)
    if not path.exists():
        raise UserError(f"image {path} does not exist")
    if path.is_dir():
        raise UserError(f"{path} is a folder, not an image")
    if path.stat().st_size == 0:
        raise UserError(f"image {path} is empty (0 bytes)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                if fit_within is not None:
                    image.draft("RGB", fit_within)
                image = ImageOps.exif_transpose(image)
                image.load()
                rgb = _to_rgb(image)
    except UnidentifiedImageError:
        raise UserError(f"{path} is not an image file Pillow can read") from None
    except Image.DecompressionBombError:
        raise UserError(f"image {path} is larger than {MAX_PIXELS:,} pixels") from None
    except (OSError, ValueError, SyntaxError) as exc:
        raise UserError(f"image {path} is damaged or truncated ({exc})") from None
    width, height = rgb.size
    if min(width, height) < MIN_SIDE:
        raise UserError(f"image {path} is too small ({width}x{height}); it needs at least {MIN_SIDE}x{MIN_SIDE} pixels")
    return np.asarray(rgb, dtype=np.uint8)


def fit_frame(rgb: np.ndarray, width: int = frame.INPUT_WIDTH, height: int = frame.INPUT_HEIGHT) -> np.ndarray:
    """Center-crop to the width:height aspect and resize to width x height (the camera-to-model path)."""
    fitted = ImageOps.fit(Image.fromarray(rgb), (width, height), method=Image.Resampling.LANCZOS,
                          centering=(0.5, 0.5))
    return np.asarray(fitted, dtype=np.uint8)


def load_frame(path: Path, width: int = frame.INPUT_WIDTH, height: int = frame.INPUT_HEIGHT) -> np.ndarray:
    """A photo as the model's input: 16:9 center crop resized to 853x480 RGB uint8."""
    return fit_frame(load_rgb(path, fit_within=(width, height)), width, height)


def save_png(rgb: np.ndarray, path: Path) -> Path:
    """Write an RGB uint8 array as PNG without ever leaving a partial file."""
    path = Path(path)
    with atomic_path(path) as tmp:
        Image.fromarray(np.asarray(rgb, dtype=np.uint8), "RGB").save(tmp, format="PNG")
    return path


def list_images(directory: Path) -> list[Path]:
    """Image files directly in `directory`, sorted by name."""
    directory = Path(directory)
    if not directory.is_dir():
        raise UserError(f"{directory} is not a folder")
    return sorted(p for p in directory.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
