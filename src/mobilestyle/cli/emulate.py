"""`mobilestyle emulate`: the phone's camera loop on a desktop, with a window, headless stats, recording."""

import signal
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.progress import MofNCompleteColumn, Progress
from rich.table import Table

from mobilestyle import frame
from mobilestyle.cli.app import app
from mobilestyle.cli.console import console



@app.command()
def emulate(
    index: Annotated[Optional[int], typer.Argument(metavar="INDEX", help="Webcam index for --webcam (default 0).")] = None,
    webcam: Annotated[bool, typer.Option("--webcam", help="Read a webcam: `--webcam` or `--webcam INDEX`.")] = False,
    video: Annotated[Optional[Path], typer.Option(help="Play a video file in real time at its own fps.")] = None,
    images: Annotated[Optional[Path], typer.Option(help="Play a folder of images, in name order, as camera frames.")] = None,
    fps: Annotated[float, typer.Option(help="Frame rate of --images.")] = 30.0,
    loop: Annotated[bool, typer.Option("--loop", help="Start --video / --images over at the end.")] = False,
    model: Annotated[Optional[Path], typer.Option(help="An exported style model (.mlmodel).")] = None,
    style: Annotated[Optional[str], typer.Option(help="A built style, by name (see `mobilestyle build`).")] = None,
    backend: Annotated[str, typer.Option(help="Runner backend: auto (OpenVINO when installed), openvino, onnxruntime, cuda, tensorrt.")] = "auto",
    threads: Annotated[Optional[int], typer.Option(help="Inference threads (default: the backend's choice).")] = None,
    pace: Annotated[bool, typer.Option("--pace/--no-pace", help=f"Run the model at most {frame.FPS_TARGET} times a "
                                       "second, like the phone (--no-pace: as often as frames arrive).")] = True,
    device: Annotated[Optional[str], typer.Option(help="Run --video / --images on this iPhone's clock: each frame "
                                                  "takes the model's estimated latency there (default iphone-xs; "
                                                  "`--device list` shows the profiles).")] = None,
    device_latency_ms: Annotated[Optional[float], typer.Option(help="The model's latency on the phone, as measured "
                                                               "in the app's HUD (instead of the estimate).")] = None,
    desktop_clock: Annotated[bool, typer.Option("--desktop-clock", help="Run --video / --images in real time on "
                                                "the desktop's clock (a webcam always does).")] = False,
    damper: Annotated[Optional[float], typer.Option(help="Reduce flicker: blend each result with the previous one "
                                                    "warped along the camera's optical flow, W the new result's "
                                                    "share (0-1]. Off by default: the app has no such step, so the "
                                                    "emulator would no longer show what the phone shows.")] = None,
    headless: Annotated[bool, typer.Option("--headless", help="No window (for tests, benchmarks, servers).")] = False,
    frames: Annotated[Optional[int], typer.Option(min=1, help="Stop after this many camera frames.")] = None,
    stats: Annotated[Optional[Path], typer.Option(help="Write the run's stats (fps, latency, drops) as JSON.")] = None,
    record: Annotated[Optional[Path], typer.Option(help="Record the stylized stream to an .mp4 file. A --video "
                                                   "recording on the device clock keeps the clip's audio (its "
                                                   "first pass with --loop); --webcam, --images and "
                                                   "--desktop-clock recordings, whose frames do not follow the "
                                                   "source's timing, are silent.")] = None,
    virtual_cam: Annotated[bool, typer.Option("--virtual-cam", help="Send the stylized stream to a v4l2loopback "
                                              "virtual webcam (needs pyvirtualcam).")] = False,
    hud: Annotated[bool, typer.Option("--hud/--no-hud", help="Show the heads-up display (key h toggles it).")] = True,
    side_by_side: Annotated[bool, typer.Option("--side-by-side", help="Show the camera frame beside the stylized "
                                               "one (key o toggles it).")] = False,
    snapshots: Annotated[Path, typer.Option(help="Folder for snapshots (key s).")] = Path("snapshots"),
) -> None:
    """Show what the phone will show: a camera, video or image folder through an exported model, paced like the phone.

    --video and --images run on the phone's clock (--device): every frame the phone would stylize is
    computed, however long the desktop takes, and the window and --record show the phone's display at the
    source's frame rate. --webcam (and --desktop-clock) run live on the desktop's clock.

    Window keys: q quit, h HUD, o side-by-side original, s snapshot, n/p next/previous model in the model's folder.
    """
    from mobilestyle.emulator import session
    from mobilestyle.emulator.models import ModelSlot, load_model, models_beside, resolve_style, runner_factory
    from mobilestyle.emulator.sources import open_source
    from mobilestyle.emulator.stats import write_stats
    from mobilestyle.errors import UserError

    if device == "list":
        console.print(_device_table())
        return
    if index is not None and not webcam:
        raise UserError(f"INDEX ({index}) goes with --webcam")
    if (model is None) == (style is None):
        raise UserError("give either --model FILE or --style NAME")
    device_clock = _device_clock(webcam, desktop_clock, device, device_latency_ms, virtual_cam)
    if damper is not None and not 0 < damper <= 1:
        raise UserError(f"--damper must be in (0, 1] (the new result's share), got {damper:g}")
    model_path = model if model is not None else resolve_style(style)
    make_runner = runner_factory(backend, threads)
    with console.status(f"loading {model_path.name} ..."):
        loaded = load_model(model_path, make_runner)
    source = open_source((index or 0) if webcam else None, video, images, fps, loop)
    if device_clock:
        from mobilestyle.emulator.device_session import timing_resolver

        timing_for = timing_resolver(device, device_latency_ms)
        console.print(f"device clock: {timing_for(loaded).label}", highlight=False)
    options = session.RunOptions(pace_fps=frame.FPS_TARGET if pace else None, max_frames=frames, record=record,
                                 virtual_cam=virtual_cam, window=not headless, hud=hud, side_by_side=side_by_side,
                                 snapshot_dir=snapshots, damper=damper)
    console.print(f"[bold]{loaded.name}[/] on {loaded.runner.backend}, source {source.name}"
                  + ("" if headless else "  (keys: q quit, h HUD, o original, s snapshot, n/p model)"), highlight=False)
    slot = ModelSlot(loaded, models_beside(model_path), make_runner)
    if device_clock:
        from mobilestyle.emulator.device_session import run_device

        def run():
            return run_device(source, slot, timing_for, options)
    else:
        def run():
            return session.run(source, slot, options)
    previous_handler = signal.signal(signal.SIGTERM, _stop_like_ctrl_c)
    try:
        if headless:
            with Progress(*Progress.get_default_columns(), MofNCompleteColumn(), console=console,
                          transient=True) as progress:
                task = progress.add_task("camera frames", total=_expected_frames(source, frames, loop))
                options.on_progress = lambda done: progress.update(task, completed=done)
                summary = run()
        else:
            summary = run()
    finally:
        signal.signal(signal.SIGTERM, previous_handler)
    for message in options.messages:
        console.print(message, highlight=False)
    if stats is not None:
        write_stats(summary, stats)
    console.print(_summary_table(summary))
    if record is not None:
        console.print(f"wrote {record}")
    if stats is not None:
        console.print(f"wrote {stats}")


def _device_clock(webcam: bool, desktop_clock: bool, device: str | None, latency_ms: float | None,
                  virtual_cam: bool) -> bool:
    """Whether the run is on the phone's clock: the default for --video and --images, never for --webcam."""
    from mobilestyle.errors import UserError

    timed = device is not None or latency_ms is not None
    if webcam and timed:
        raise UserError("--device / --device-latency-ms go with --video or --images; a webcam runs live on the "
                        "desktop's clock")
    if desktop_clock and timed:
        raise UserError("--desktop-clock runs on the desktop's clock; drop --device / --device-latency-ms")
    if webcam or desktop_clock:
        return False
    from mobilestyle.emulator.device import device_timing

    if timed:  # a bad --device or --device-latency-ms fails now, before the model is loaded
        device_timing(device, latency_ms, 1, "the model")
    if virtual_cam:
        if timed:
            raise UserError("--virtual-cam needs a live stream: use it with --webcam or --desktop-clock")
        return False
    return True


def _expected_frames(source, frames: int | None, loop: bool) -> int | None:
    """Camera frames the run will take, when known (for the progress bar's ETA)."""
    known = None if loop else getattr(source, "frame_count", None)
    if frames is not None and known:
        return min(frames, known)
    return frames or known


def _device_table() -> Table:
    from mobilestyle.emulator.device import CHIPS, DEVICES, REFERENCE, REFERENCE_MACS, device_names, estimate_latency_ms

    table = Table(title=f"iPhone profiles (estimates, scaled from {REFERENCE})", title_justify="left")
    for column in ("device", "chip", "Neural Engine (Apple's figure)", "x A12", "ms at 48.0 GMAC"):
        table.add_column(column, justify="right" if column.startswith(("x", "ms")) else "left")
    for name in device_names():
        chip = DEVICES[name]
        table.add_row(name, CHIPS[chip].name, CHIPS[chip].neural_engine, f"{CHIPS[chip].relative:.2f}",
                      f"{estimate_latency_ms(REFERENCE_MACS, chip):.1f}")
    return table


def _stop_like_ctrl_c(signum, stack_frame) -> None:
    """SIGTERM ends a run like Ctrl-C: the frame in flight finishes, the recording and stats are written."""
    raise KeyboardInterrupt


def _summary_table(summary: dict) -> Table:
    table = Table(title=f"{summary['model']} ({summary['backend']}) on {summary['source']}", title_justify="left")
    if summary.get("clock") == "device":
        table.title += f"\non {summary['device']['name']}'s clock (latency {summary['device']['latency_ms']:.1f} ms, " + \
            ("an estimate" if summary["device"]["latency_is_estimate"] else "given") + f"): {summary['phone_hud']}"
    for column in ("frames in", "stylized", "dropped", "fps", "latency p50/p95 ms", "e2e p50/p95 ms"):
        table.add_column(column, justify="right")
    table.add_row(str(summary["frames_in"]), str(summary["frames_stylized"]), str(summary["frames_dropped"]),
                  f"{summary['fps']:.2f}", f"{_ms(summary['latency_ms_p50'])} / {_ms(summary['latency_ms_p95'])}",
                  f"{_ms(summary['e2e_ms_p50'])} / {_ms(summary['e2e_ms_p95'])}")
    return table


def _ms(value) -> str:
    return "-" if value is None else f"{value:.0f}"
