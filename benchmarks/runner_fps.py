"""Frames per second of the Linux runner on an exported model, per backend.

    python benchmarks/runner_fps.py MODEL.mlmodel [--threads 2] [--frames 40]

Each backend runs `ModelRunner.run` (uint8 853x480 frame in, uint8 1920x1080 frame out, the
1080p upsample included) on a real photo after 3 warm-up frames; prints the median frame time.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from mobilestyle.runner import ModelRunner
from mobilestyle.runner.backends import available_backends


def median_seconds(runner: ModelRunner, image, frames: int, warmup: int = 3) -> float:
    """Median wall time of `runner.run(image)` over `frames` calls, after `warmup` untimed calls."""
    for _ in range(warmup):
        runner.run(image)
    times = []
    for _ in range(frames):
        start = time.perf_counter()
        runner.run(image)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def measure(model: Path, backend: str, threads: int, frames: int) -> tuple[float, float]:
    from skimage import data

    from mobilestyle.images import fit_frame

    median = median_seconds(ModelRunner(model, backend=backend, threads=threads), fit_frame(data.astronaut()), frames)
    return 1.0 / median, median * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--frames", type=int, default=40)
    args = parser.parse_args()
    for backend in available_backends():
        fps, milliseconds = measure(args.model, backend, args.threads, args.frames)
        print(f"{backend:12s} threads={args.threads}  {fps:6.2f} fps  ({milliseconds:.1f} ms/frame median "
              f"of {args.frames})", flush=True)


if __name__ == "__main__":
    main()
