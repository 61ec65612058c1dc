import pytest

from mobilestyle.emulator.gate import FrameGate, Verdict


def feed(gate: FrameGate, arrivals: list[float], latency: float) -> tuple[list[float], list[Verdict]]:
    """Offer frames at `arrivals`; each run frame keeps the model busy for `latency` seconds."""
    starts, verdicts, busy_until = [], [], None
    for now in arrivals:
        if busy_until is not None and now >= busy_until:
            gate.release()
            busy_until = None
        verdict = gate.offer(now)
        verdicts.append(verdict)
        if verdict is Verdict.RUN:
            starts.append(now)
            busy_until = now + latency
    return starts, verdicts


def camera(fps: float, count: int, jitter: float = 0.0) -> list[float]:
    return [i / fps + (jitter if i % 2 else -jitter) for i in range(count)]


def test_a_frame_arriving_while_the_model_is_busy_is_dropped():
    gate = FrameGate(pace_fps=None)
    assert gate.offer(0.0) is Verdict.RUN
    assert gate.offer(0.01) is Verdict.DROP_BUSY
    gate.release()
    assert gate.offer(0.02) is Verdict.RUN


def test_a_30fps_camera_paced_to_15fps_runs_every_other_frame_despite_jitter():
    starts, verdicts = feed(FrameGate(pace_fps=15), camera(30, 60, jitter=0.004), latency=0.005)
    assert len(starts) == 30
    assert verdicts[::2] == [Verdict.RUN] * 30 and set(verdicts[1::2]) == {Verdict.DROP_PACE}


def test_pacing_never_starts_the_model_more_often_than_the_target():
    gate = FrameGate(pace_fps=15, jitter=0.25)
    starts, _ = feed(gate, camera(120, 240, jitter=0.003), latency=0.001)
    gaps = [b - a for a, b in zip(starts, starts[1:])]
    assert min(gaps) >= 0.75 / 15 - 1e-9
    assert len(starts) / 2.0 == pytest.approx(15, abs=1)


def test_a_slow_model_runs_the_first_frame_after_it_is_free_and_is_not_held_back_by_the_grid():
    starts, verdicts = feed(FrameGate(pace_fps=15), camera(30, 90), latency=0.25)
    assert starts[:3] == pytest.approx([0.0, 8 / 30, 16 / 30])
    assert verdicts.count(Verdict.DROP_PACE) == 0


def test_without_pacing_a_fast_model_takes_every_frame():
    starts, verdicts = feed(FrameGate(pace_fps=None), camera(30, 30), latency=0.001)
    assert verdicts == [Verdict.RUN] * 30


def test_pace_must_be_positive():
    with pytest.raises(ValueError):
        FrameGate(pace_fps=0)
