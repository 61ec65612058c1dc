"""The device clock: iPhone latency estimates, and the deterministic loop that shows what the phone would show."""

from pathlib import Path

import numpy as np
import pytest

from mobilestyle.emulator.device import (CHIPS, DEVICES, REFERENCE_LATENCY_MS, REFERENCE_MACS, device_timing,
                                         estimate_latency_ms, model_macs)
from mobilestyle.emulator.device_loop import DeviceLoop, phone_hud_line
from mobilestyle.emulator.models import LoadedModel, ModelSlot
from mobilestyle.errors import UserError
from tests.emulator.fakes import FakeRunner, FakeSource

NTSC = 30000 / 1001


def test_the_reference_net_takes_66_7_ms_on_an_a12_and_newer_chips_are_faster():
    from mobilestyle.networks.arch import ArchSpec
    from mobilestyle.networks.counting import count

    assert count(ArchSpec.parse(None))[1] == REFERENCE_MACS
    assert estimate_latency_ms(REFERENCE_MACS, "A12") == pytest.approx(1000 / 15)
    assert estimate_latency_ms(REFERENCE_MACS // 2, "A12") == pytest.approx(1000 / 30, rel=1e-6)
    by_year = sorted(CHIPS.values(), key=lambda chip: chip.year)
    assert [chip.relative for chip in by_year] == sorted(chip.relative for chip in by_year)
    assert DEVICES["iphone-xs"] == "A12" and DEVICES["iphone-16-pro"] == "A18 Pro"


def test_a_timing_is_an_estimate_from_the_models_macs_or_the_figure_the_user_gives():
    timing = device_timing(None, None, REFERENCE_MACS, "m.mlmodel")
    assert (timing.device, timing.chip, timing.estimated) == ("iphone-xs", "A12 Bionic", True)
    assert timing.latency_ms == pytest.approx(REFERENCE_LATENCY_MS)
    assert "estimate" in timing.label and "48.04 GMAC" in timing.basis
    newer = device_timing("iphone-12", None, REFERENCE_MACS, "m.mlmodel")
    assert newer.latency_ms == pytest.approx(REFERENCE_LATENCY_MS / 2.2)
    given = device_timing("iphone-15", 41.5, None, "m.mlmodel")
    assert (given.latency_ms, given.estimated, given.chip) == (41.5, False, "A16 Bionic")
    assert "given" in given.label
    with pytest.raises(UserError, match="unknown device 'iphone-3g'; known: iphone-xr"):
        device_timing("iphone-3g", None, REFERENCE_MACS, "m.mlmodel")
    with pytest.raises(UserError, match="does not record its MACs.*--device-latency-ms"):
        device_timing(None, None, None, "m.mlmodel")
    with pytest.raises(UserError, match="must be positive"):
        device_timing(None, 0, None, "m.mlmodel")
    assert model_macs({"userDefined": {"mobilestyle.macs": "123"}}) == 123 and model_macs({}) is None


def device_run(latency_ms: float, fps: float = NTSC, count: int = 90, pace_fps=15, desktop_latency=0.0,
               max_frames=None):
    runner = FakeRunner(latency=desktop_latency)
    slot = ModelSlot(LoadedModel(Path("fake.mlmodel"), runner), [], lambda path: runner)
    timing = device_timing("iphone-xs", latency_ms, None, "fake.mlmodel")
    loop = DeviceLoop(FakeSource(fps=fps, count=count), slot, lambda model: timing, pace_fps, max_frames)
    ticks = list(loop.ticks())
    return loop, ticks, runner


def test_at_the_reference_point_a_2997_fps_clip_is_stylized_every_other_frame_at_15_fps():
    loop, ticks, runner = device_run(REFERENCE_LATENCY_MS)
    summary = loop.summary()
    assert len(ticks) == summary["timeline_frames"] == summary["frames_in"] == 90
    # The last frame (89) arrives while frame 88 is in the model, and the camera stops: dropped busy.
    assert (summary["frames_stylized"], summary["frames_dropped_pace"], summary["frames_dropped_busy"]) == (45, 44, 1)
    assert len(runner.calls) == 45
    assert [tick.result.index if tick.result else None for tick in ticks[:6]] == [None, None, 0, 0, 2, 2]
    assert summary["frames_blank"] == 2
    assert summary["fps"] == pytest.approx(NTSC / 2, abs=1e-3)
    assert summary["latency_ms_p50"] == pytest.approx(66.67, abs=0.01)
    assert summary["screen_ms_p50"] == pytest.approx(2000 / NTSC, abs=0.01)
    assert summary["phone_hud"] == "15.0 fps | 67 ms (max 67 ms) | dropped 45/90"
    assert summary["clock"] == "device" and summary["device"]["latency_is_estimate"] is False
    assert summary["elapsed_s"] == pytest.approx(88 / NTSC + 0.0667, abs=1e-3)  # first capture at device time 0


def test_the_same_input_gives_the_same_stats_whatever_the_desktop_takes():
    fast, _, _ = device_run(120.0, count=40)
    slow, _, _ = device_run(120.0, count=40, desktop_latency=0.02)
    assert fast.summary() == slow.summary()


def test_a_slow_phone_model_runs_back_to_back_on_the_newest_late_frame():
    # 200 ms on a 30 fps camera: each run starts the moment the previous ends, on a frame at most 33 ms old.
    loop, ticks, _ = device_run(200.0, fps=30, count=61)
    summary = loop.summary()
    starts = [(r.started_at, r.index) for r in {id(t.result): t.result for t in ticks if t.result}.values()]
    assert [index for _, index in starts] == [0, 5, 11, 17, 23, 29, 35, 41, 47, 53]
    assert all(start - index / 30 <= 1 / 30 + 1e-9 for start, index in starts)
    assert summary["fps"] == pytest.approx(5.0)
    assert summary["frames_in"] == summary["frames_stylized"] + summary["frames_dropped"]
    assert summary["e2e_ms_p50"] > summary["latency_ms_p50"] == 200.0


def test_each_tick_shows_the_newest_result_finished_by_its_time():
    loop, ticks, _ = device_run(95.0, fps=25, count=50)
    results = {t.result.sequence: t.result for t in ticks if t.result}
    for tick in ticks:
        done = [r for r in results.values() if r.finished_at <= tick.time]
        assert tick.result is (max(done, key=lambda r: r.finished_at) if done else None)
    fresh = [tick.result.sequence for tick in ticks if tick.fresh]
    assert fresh == sorted(set(fresh)) and loop.summary()["frames_shown"] == len(fresh)


def test_max_frames_ends_the_timeline_and_the_counts_add_up():
    loop, ticks, _ = device_run(150.0, count=100, max_frames=31)
    summary = loop.summary()
    assert len(ticks) == 31 and summary["frames_in"] == 31
    assert summary["frames_in"] == summary["frames_stylized"] + summary["frames_dropped"]


def test_the_phone_hud_line_is_formatted_like_the_apps():
    assert phone_hud_line([], [], 0, 0) == "-- fps | -- ms (max -- ms) | dropped 0/0"
    assert phone_hud_line([i / 7.5 for i in range(50)], [0.05] * 100, 3, 100) == \
        "7.5 fps | 50 ms (max 50 ms) | dropped 3/100"


def test_the_damper_changes_the_pictures_but_not_the_timing():
    from mobilestyle.flicker import FlowDamper

    class Alternating(FakeRunner):
        def run(self, rgb):
            super().run(rgb)
            return np.full((1080, 1920, 3), 100 if len(self.calls) % 2 else 160, np.uint8)

    def run(damper):
        runner = Alternating(latency=0.0)
        slot = ModelSlot(LoadedModel(Path("fake.mlmodel"), runner), [], lambda path: runner)
        timing = device_timing("iphone-xs", 80.0, None, "fake.mlmodel")
        loop = DeviceLoop(FakeSource(fps=30, count=20), slot, lambda model: timing, 15, damper=damper)
        ticks = list(loop.ticks())
        return loop.summary(), [int(t.result.stylized[540, 960, 0]) for t in ticks if t.fresh]

    plain, plain_values = run(None)
    damped, damped_values = run(FlowDamper(0.5))
    assert plain == damped
    assert plain_values[:3] == [100, 160, 100]
    assert np.ptp(damped_values[1:]) < np.ptp(plain_values[1:])


def test_an_interrupt_during_inference_leaves_counts_that_add_up():
    class Interrupted(FakeRunner):
        def run(self, rgb):
            if len(self.calls) == 3:
                raise KeyboardInterrupt
            return super().run(rgb)

    runner = Interrupted(latency=0.0)
    slot = ModelSlot(LoadedModel(Path("fake.mlmodel"), runner), [], lambda path: runner)
    timing = device_timing("iphone-xs", 50.0, None, "fake.mlmodel")
    loop = DeviceLoop(FakeSource(fps=30, count=100), slot, lambda model: timing, 15)
    with pytest.raises(KeyboardInterrupt):
        for _ in loop.ticks():
            pass
    summary = loop.summary()
    assert summary["frames_stylized"] == 3
    assert summary["frames_in"] == summary["frames_stylized"] + summary["frames_dropped"]


def test_the_device_clock_paces_with_the_apps_tolerance_of_a_tenth_of_an_interval():
    # At 15 fps a frame may run up to 6.7 ms before its slot: one at 58.8 ms (17 fps camera) is too early,
    # one at 60.6 ms (16.5 fps) is not. The live loop's 25% would run both.
    too_early, _, _ = device_run(10.0, fps=17, count=2)
    in_time, _, _ = device_run(10.0, fps=16.5, count=2)
    assert (too_early.summary()["frames_stylized"], too_early.summary()["frames_dropped_pace"]) == (1, 1)
    assert (in_time.summary()["frames_stylized"], in_time.summary()["frames_dropped_pace"]) == (2, 0)
