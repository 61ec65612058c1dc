"""The phone loop's scheduling, with a fake runner that sleeps and a fake source paced in real time.

Counts and invariants are exact; rates are checked with wide margins (the machine may be busy).
"""

from pathlib import Path

import pytest

from tests.emulator.fakes import FakeRunner, FakeSource
from mobilestyle.emulator.loop import PhoneLoop
from mobilestyle.emulator.models import LoadedModel, ModelSlot
from mobilestyle.errors import UserError


def run_loop(runner: FakeRunner, source: FakeSource, pace_fps=15, max_frames=None) -> PhoneLoop:
    model = LoadedModel(Path("fake.mlmodel"), runner)
    loop = PhoneLoop(source, ModelSlot(model, [], lambda path: runner), pace_fps, max_frames).start()
    loop.join(timeout=30)
    return loop


def assert_adds_up(summary: dict) -> None:
    assert summary["frames_in"] == summary["frames_stylized"] + summary["frames_dropped"]
    assert summary["frames_dropped"] == summary["frames_dropped_busy"] + summary["frames_dropped_pace"]


def test_a_slow_model_drops_the_frames_that_arrive_while_it_is_busy():
    runner = FakeRunner(latency=0.1)
    loop = run_loop(runner, FakeSource(fps=60, count=60))
    summary = loop.stats.summary()
    assert_adds_up(summary)
    assert summary["frames_in"] == 60
    assert runner.max_concurrent == 1
    assert summary["frames_dropped_busy"] > 30
    assert 4 <= summary["frames_stylized"] <= 11
    assert summary["frames_stylized"] == len(runner.calls)
    assert runner.inputs_shapes == {(480, 853, 3)}


def test_a_fast_model_is_paced_to_15_fps_and_unpaced_it_takes_every_frame():
    paced = FakeRunner(latency=0.002)
    summary = run_loop(paced, FakeSource(fps=60, count=60)).stats.summary()
    assert_adds_up(summary)
    assert 8 <= summary["frames_stylized"] <= 16 and summary["frames_dropped_pace"] > 0

    unpaced = FakeRunner(latency=0.002)
    summary = run_loop(unpaced, FakeSource(fps=60, count=60), pace_fps=None).stats.summary()
    assert summary["frames_dropped_pace"] == 0
    assert summary["frames_stylized"] >= 50


def test_the_frame_in_flight_at_the_end_is_waited_for_and_counted():
    runner = FakeRunner(latency=0.4)
    loop = run_loop(runner, FakeSource(fps=100, count=5))
    summary = loop.stats.summary()
    assert (summary["frames_in"], summary["frames_stylized"], summary["frames_dropped"]) == (5, 1, 4)
    assert loop.finished and loop.latest() is not None and loop.latest().index == 0
    assert summary["elapsed_s"] >= 0.4


def test_max_frames_stops_capture_and_closes_the_source():
    source = FakeSource(fps=100, count=1000)
    summary = run_loop(FakeRunner(latency=0.005), source, max_frames=25).stats.summary()
    assert summary["frames_in"] == 25 and source.delivered == 25 and source.closed
    assert_adds_up(summary)


def test_stop_ends_a_run_early_and_the_counts_still_add_up():
    runner = FakeRunner(latency=0.05)
    model = LoadedModel(Path("fake.mlmodel"), runner)
    loop = PhoneLoop(FakeSource(fps=60, count=100_000), ModelSlot(model, [], lambda path: runner), 15).start()
    first = loop.wait_for_result(0, timeout=10)
    loop.stop()
    loop.join(timeout=10)
    assert first is not None and first.stylized.shape == (1080, 1920, 3)
    assert loop.finished
    assert_adds_up(loop.stats.summary())


def test_a_model_error_reaches_the_caller():
    with pytest.raises(RuntimeError, match="fake model failure"):
        run_loop(FakeRunner(latency=0.01, fail_after=2), FakeSource(fps=60, count=100))


def test_a_source_error_reaches_the_caller():
    with pytest.raises(UserError, match="fake source failure"):
        run_loop(FakeRunner(latency=0.01), FakeSource(fps=60, count=100, fail_at=10))
