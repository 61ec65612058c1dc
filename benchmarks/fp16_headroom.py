"""How far below fp16's largest value an instance-norm student's squares stay on harsh camera frames.

Usage:
  python benchmarks/fp16_headroom.py --checkpoint models/muse_instance.npz \
      --photos ../shared/data/content/bsds500/test --count 8 --video ../shared/data/video/faces.mp4 \
      --json benchmarks/fp16_headroom.json

The export rescales the convolution in front of each instance norm so that the largest (x - mean)^2 it
squares on its calibration frames (three photos, noise, three fine saturated checkerboards) stays 16x below
65,504 (`mobilestyle.export.fp16_range`). A camera sees more than those frames: a white wall, a dark room, a
saturated colour, a fine high-contrast pattern. This applies the export's rescaling, then measures the
largest square at every norm on each frame: the calibration frames, synthetic extremes (among them
checkerboards of other cells and colours than the calibration's), photos and video frames, all at the
model input (853x480). The headroom is 65,504 over the largest square; below 1, a phone computing in fp16
would overflow there.
"""

import argparse
import json
import shlex
import sys
import time
from pathlib import Path

import numpy as np

from mobilestyle import frame
from mobilestyle.errors import UserError
from mobilestyle.export.fp16_range import (CALIBRATION_PATTERNS, FP16_MAX, calibration_frames, checkerboard, describe,
                                           fit_instance_norms_to_fp16, largest_squares)
from mobilestyle.files import atomic_path
from mobilestyle.images import fit_frame, list_images, load_frame
from mobilestyle.networks.checkpoint import load_checkpoint
from mobilestyle.portable_paths import portable_words
from mobilestyle.video import is_video, open_video

REPO = Path(__file__).resolve().parents[1]
HEIGHT, WIDTH = frame.INPUT_HEIGHT, frame.INPUT_WIDTH


COLOURS = {(255, 0, 0): "red", (0, 255, 0): "green", (0, 0, 255): "blue", (0, 255, 255): "cyan",
           (255, 255, 0): "yellow", (255, 0, 255): "magenta", (255, 255, 255): "white", (0, 0, 0): "black"}
UNSEEN_CHECKERBOARDS = ((1, (255, 0, 0), (0, 255, 0)), (2, (255, 0, 0), (0, 255, 0)),
                        (3, (255, 0, 0), (0, 255, 0)), (2, (255, 255, 255), (0, 0, 0)),
                        (4, (255, 0, 255), (0, 255, 0)), (4, (255, 0, 0), (0, 255, 255)),
                        (6, (0, 0, 255), (255, 255, 0)), (8, (255, 0, 255), (0, 255, 0)))
"""Checkerboards the export does not calibrate on (other cells and colour pairs than `CALIBRATION_PATTERNS`)."""


def pattern_name(cell: int, first: tuple, second: tuple) -> str:
    return f"{cell}-px {COLOURS[first]}/{COLOURS[second]} checkerboard"


def extreme_frames() -> dict[str, np.ndarray]:
    """Frames a camera can show that photos rarely do: flat extremes, saturated colour, hard fine patterns."""
    flat = {"white": (255, 255, 255), "black": (0, 0, 0), "saturated red": (255, 0, 0),
            "saturated blue": (0, 0, 255)}
    frames = {name: np.broadcast_to(np.array(rgb, np.uint8), (HEIGHT, WIDTH, 3)).copy() for name, rgb in flat.items()}
    x = np.arange(WIDTH)[None, :, None]
    frames["4-px white/black stripes"] = np.broadcast_to(np.where((x // 4) % 2 == 0, 255, 0).astype(np.uint8),
                                                         (HEIGHT, WIDTH, 3)).copy()
    frames["half white, half black"] = np.broadcast_to(np.where(x < WIDTH // 2, 255, 0).astype(np.uint8),
                                                       (HEIGHT, WIDTH, 3)).copy()
    frames.update({pattern_name(*pattern): checkerboard(*pattern) for pattern in UNSEEN_CHECKERBOARDS})
    return frames


def video_frames(path: Path, count: int) -> dict[str, np.ndarray]:
    """`count` frames spread over the clip's first 300, fitted to the model input."""
    if not is_video(path):
        raise UserError(f"--video {path} is not a video file (by its suffix)")
    with open_video(path) as container:
        decoded = [item.to_ndarray(format="rgb24") for _, item in zip(range(300), container.decode(video=0))]
    if not decoded:
        raise UserError(f"{path} has no frames")
    picks = np.linspace(0, len(decoded) - 1, min(count, len(decoded))).round().astype(int)
    return {f"{path.name} frame {index}": fit_frame(decoded[index]) for index in picks}


def probe(checkpoint_path: Path, frames: dict[str, np.ndarray]) -> dict:
    """The export's rescaling of the net, then each frame's largest square (and where) and its headroom."""
    model = load_checkpoint(checkpoint_path).build_model(HEIGHT, WIDTH)
    scales = fit_instance_norms_to_fp16(model)
    if not scales:
        raise UserError(f"{checkpoint_path} has no instance norms: its batch norms are folded at export")
    rows = {}
    for name, image in frames.items():
        squares = largest_squares(model, image[None].astype(np.float32))
        worst = max(squares, key=squares.get)
        rows[name] = {"largest_square": round(squares[worst], 1), "at": worst,
                      "headroom": round(FP16_MAX / squares[worst], 2) if squares[worst] >= 1 else None}
    worst_frame = max(rows, key=lambda name: rows[name]["largest_square"])
    return {"rescaled": describe(scales), "frames": rows, "worst_frame": worst_frame,
            "worst_headroom": rows[worst_frame]["headroom"]}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", type=Path, action="append", required=True, help="an instance-norm student")
    parser.add_argument("--photos", type=Path, help="a folder of photos (evenly spaced --count of them)")
    parser.add_argument("--count", type=int, default=8)
    parser.add_argument("--video", type=Path, help="a clip: --count frames from its first 300")
    parser.add_argument("--json", type=Path, help="JSON to write")
    args = parser.parse_args(argv)
    try:
        if args.count < 1:
            raise UserError(f"--count must be at least 1, got {args.count}")
        names = ["astronaut", "coffee", "chelsea", "uniform noise", *map(pattern_name, *zip(*CALIBRATION_PATTERNS))]
        frames = {f"calibration: {name}": image.astype(np.uint8) for name, image in zip(names, calibration_frames())}
        frames.update(extreme_frames())
        if args.photos:
            paths = list_images(args.photos)
            if not paths:
                raise UserError(f"--photos {args.photos} holds no images")
            picks = np.linspace(0, len(paths) - 1, min(args.count, len(paths))).round().astype(int)
            frames.update({paths[i].name: load_frame(paths[i]) for i in picks})
        if args.video:
            frames.update(video_frames(args.video, args.count))
        report = {"command": " ".join(["python benchmarks/fp16_headroom.py", shlex.join(portable_words(argv, REPO))]),
                  "fp16_max": FP16_MAX, "size": f"{WIDTH}x{HEIGHT}", "students": {}}
        for path in args.checkpoint:
            started = time.monotonic()
            result = report["students"][path.name] = probe(path, frames)
            print(f"{path.name} (rescaled {result['rescaled'] or 'nothing'}; {time.monotonic() - started:.0f} s)")
            for name, row in result["frames"].items():
                headroom = f"{row['headroom']:8.2f}x" if row["headroom"] else "(a square below 1)"
                print(f"  {name:38s} largest square {row['largest_square']:>12,.1f} at {row['at']:18s} {headroom}")
            print(f"  worst: {result['worst_frame']}, {result['worst_headroom']:.2f}x below fp16's {FP16_MAX:,.0f}")
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if args.json:
        with atomic_path(args.json) as tmp:
            tmp.write_text(json.dumps(report, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
