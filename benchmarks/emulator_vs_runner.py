"""The emulator's stylized-frame throughput next to the raw runner's, for the same model, in one run.

Raw runner: `ModelRunner.run` called back to back on one fitted frame. Emulator: `mobilestyle emulate
--headless` on a 30 fps video (the phone's loop: capture, frame gate, inference and consumer threads), its
`fps` being stylized frames per second of wall time. Rounds alternate raw and emulator so that load from
other processes hits both alike; medians are reported. Target: emulator >= 0.9x raw.

The emulator runs paced at 15 fps like the phone (the default); for models faster than 15 fps pass
--no-pace, since pacing then, by design, caps the emulator below the raw runner.

    PYTHONPATH=src python benchmarks/emulator_vs_runner.py                 # exports two random-weight models
    PYTHONPATH=src python benchmarks/emulator_vs_runner.py --model M.mlmodel --seconds 30 --rounds 3

The reports record the command with its paths made portable (`mobilestyle.portable_paths`, against the
repository root), the video and models by name.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
from rich.console import Console
from rich.table import Table

from mobilestyle import frame
from mobilestyle.emulator.fitting import fit_camera_frame
from mobilestyle.emulator.models import ModelSlot, load_model, runner_factory
from mobilestyle.emulator.session import RunOptions, run
from mobilestyle.emulator.sources import VideoSource
from mobilestyle.files import atomic_path
from mobilestyle.portable_paths import portable_words

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SHARED_VIDEO = REPO.parent / "shared" / "data" / "video" / "slow_traffic_small.mp4"
DEFAULT_ARCHS = {"default-arch": None, "tiny-width0.25-blocks1": "width=0.25,blocks=1"}
console = Console()


def export_models(folder: Path) -> list[Path]:
    from mobilestyle.export.coreml import export_coreml
    from mobilestyle.networks.arch import ArchSpec
    from mobilestyle.networks.checkpoint import random_checkpoint

    with console.status("exporting random-weight models ..."):
        return [export_coreml(random_checkpoint(ArchSpec.parse(arch), 0), folder, name).model_path
                for name, arch in DEFAULT_ARCHS.items()]


def generated_video(folder: Path, seconds: float) -> Path:
    path = folder / "generated-30fps.mp4"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 30, (640, 360))
    gradient = np.linspace(0, 255, 640, dtype=np.uint8)[None, :, None].repeat(360, 0).repeat(3, 2)
    for index in range(int(30 * seconds) + 30):
        image = gradient.copy()
        cv2.circle(image, ((index * 7) % 640, 180), 80, (40, 200, 255), -1)
        writer.write(image)
    writer.release()
    return path


def raw_fps(runner, video: Path, seconds: float) -> tuple[float, float]:
    """(frames per second, median ms per call) of `runner.run` called back to back."""
    capture = cv2.VideoCapture(str(video))
    model_input = fit_camera_frame(capture.read()[1])
    capture.release()
    runner.run(model_input)
    calls, start = [], time.perf_counter()
    while time.perf_counter() - start < seconds or len(calls) < 3:
        before = time.perf_counter()
        runner.run(model_input)
        calls.append(time.perf_counter() - before)
    return len(calls) / (time.perf_counter() - start), 1000 * statistics.median(calls)


def emulator_fps(model, make_runner, video: Path, seconds: float, pace: bool) -> dict:
    source = VideoSource(video, loop=True)
    options = RunOptions(pace_fps=frame.FPS_TARGET if pace else None, max_frames=int(round(seconds * source.fps)),
                         window=False)
    return run(source, ModelSlot(model, [model.path], make_runner), options)


def measure(path: Path, video: Path, args) -> dict:
    make_runner = runner_factory(args.backend, args.threads)
    model = load_model(path, make_runner)
    raw, raw_latency, emulated = [], [], []
    for round_index in range(args.rounds):
        console.print(f"{path.stem}: round {round_index + 1}/{args.rounds}", highlight=False)
        fps, latency_ms = raw_fps(model.runner, video, args.seconds)
        raw.append(fps)
        raw_latency.append(latency_ms)
        emulated.append(emulator_fps(model, make_runner, video, args.seconds, args.pace))
    raw_median = statistics.median(raw)
    emulator_median = statistics.median(stats["fps"] for stats in emulated)
    last = emulated[-1]
    emulator_latency = statistics.median(stats["latency_ms_p50"] for stats in emulated)
    return {
        "model": path.stem, "backend": model.runner.backend, "threads": args.threads,
        "raw_fps_median": round(raw_median, 3), "raw_fps_rounds": [round(v, 3) for v in raw],
        "raw_latency_ms_p50": round(statistics.median(raw_latency), 2),
        "emulator_fps_median": round(emulator_median, 3), "emulator_fps_rounds": [s["fps"] for s in emulated],
        "ratio": round(emulator_median / raw_median, 3),
        "emulator_latency_ms_p50": emulator_latency, "emulator_e2e_ms_p50": last["e2e_ms_p50"],
        "emulator_frames_in": last["frames_in"], "emulator_frames_stylized": last["frames_stylized"],
        "emulator_frames_dropped": last["frames_dropped"], "paced": args.pace,
    }


def command_line(argv: list[str]) -> str:
    """The command of a run as recorded, its paths portable against the repository root."""
    return "python benchmarks/emulator_vs_runner.py " + " ".join(portable_words(argv, REPO))


def write_reports(rows: list[dict], context: dict, out: Path) -> tuple[Path, Path]:
    json_path, md_path = out / "emulator_vs_runner.json", out / "emulator_vs_runner.md"
    with atomic_path(json_path) as tmp:
        tmp.write_text(json.dumps({"context": context, "results": rows}, indent=2) + "\n")
    lines = ["# Emulator vs raw runner throughput", "",
             f"Command: `{context['command']}`  ",
             f"Machine: {context['machine']}, {context['cpus']} CPUs, load average {context['load_before']} before / "
             f"{context['load_after']} after; video {context['video']}; {context['rounds']} alternating rounds of "
             f"{context['seconds']} s, medians; emulator {'paced at 15 fps' if context['paced'] else 'unpaced (--no-pace)'}.",
             "", "| model | backend | raw runner fps | emulator fps | ratio | raw ms/call p50 | emulator model ms p50 | "
             "e2e p50 ms | frames in / stylized / dropped (last round) |", "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for row in rows:
        lines.append(f"| {row['model']} | {row['backend']} | {row['raw_fps_median']:.2f} | {row['emulator_fps_median']:.2f} | "
                     f"{row['ratio']:.2f} | {row['raw_latency_ms_p50']:.0f} | {row['emulator_latency_ms_p50']:.0f} | "
                     f"{row['emulator_e2e_ms_p50']:.0f} | "
                     f"{row['emulator_frames_in']} / {row['emulator_frames_stylized']} / {row['emulator_frames_dropped']} |")
    with atomic_path(md_path) as tmp:
        tmp.write_text("\n".join(lines) + "\n")
    return json_path, md_path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, action="append", help="Exported .mlmodel (repeatable); default: "
                        "export the default architecture and a tiny one with random weights.")
    parser.add_argument("--video", type=Path, help="Source video (default: the shared 30 fps traffic clip, "
                        "else a generated one).")
    parser.add_argument("--seconds", type=float, default=20.0, help="Length of each raw and emulator measurement.")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--backend", default="auto")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--no-pace", dest="pace", action="store_false", help="Run the emulator unpaced.")
    parser.add_argument("--out", type=Path, default=HERE, help="Folder for the JSON and markdown reports.")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        models = args.model or export_models(Path(scratch))
        video = args.video or (SHARED_VIDEO if SHARED_VIDEO.is_file() else generated_video(Path(scratch), args.seconds))
        load_before = [round(v, 2) for v in os.getloadavg()]
        rows = [measure(path, video, args) for path in models]
    context = {"command": command_line(sys.argv[1:]),
               "machine": platform.processor() or platform.machine(), "cpus": os.cpu_count(),
               "load_before": load_before, "load_after": [round(v, 2) for v in os.getloadavg()],
               "video": video.name, "seconds": args.seconds, "rounds": args.rounds, "paced": args.pace,
               "date": time.strftime("%Y-%m-%d %H:%M")}
    table = Table(title="emulator vs raw runner (stylized frames per second, medians)", title_justify="left")
    for column in ("model", "backend", "raw fps", "emulator fps", "ratio", "raw ms/call", "emulator model ms"):
        table.add_column(column, justify="left" if column in ("model", "backend") else "right")
    for row in rows:
        table.add_row(row["model"], row["backend"], f"{row['raw_fps_median']:.2f}", f"{row['emulator_fps_median']:.2f}",
                      f"{row['ratio']:.2f}", f"{row['raw_latency_ms_p50']:.0f}", f"{row['emulator_latency_ms_p50']:.0f}")
    console.print(table)
    for path in write_reports(rows, context, args.out):
        console.print(f"wrote {path}")


if __name__ == "__main__":
    main()
