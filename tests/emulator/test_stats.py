import pytest

from mobilestyle.emulator.gate import Verdict
from mobilestyle.emulator.hud import HudInfo, hud_lines
from mobilestyle.emulator.stats import LoopStats


def test_the_hud_fps_of_a_slow_model_is_its_rate_over_the_last_frames_not_zero():
    # muse on the 2-core desktop: 17 frames in 26 s. A one-second window saw at most one of them (fps 0.0).
    stats = LoopStats()
    for index in range(17):
        stats.frame_stylized(index * 1.55, index * 1.55 + 1.5)
    assert stats.recent_fps() == pytest.approx(1 / 1.55)
    assert stats.recent_fps(frames=3) == pytest.approx(1 / 1.55)


def test_before_the_second_result_the_hud_shows_no_fps_rather_than_zero():
    stats = LoopStats()
    assert stats.recent_fps() is None
    stats.frame_stylized(0.0, 1.0)
    assert stats.recent_fps() is None
    info = HudInfo(model="m", backend="b", fps=stats.recent_fps(), fps_target=15, latency_ms=None, frames_in=1,
                   frames_dropped=0, source="s")
    assert "fps      - (target 15)" in hud_lines(info)


def test_drops_are_counted_by_kind_and_only_drops_are_accepted():
    stats = LoopStats()
    for _ in range(3):
        stats.frame_arrived(0.0)
    stats.frame_dropped(Verdict.DROP_BUSY)
    stats.frame_dropped(Verdict.DROP_PACE)
    summary = stats.summary()
    assert (summary["frames_in"], summary["frames_dropped_busy"], summary["frames_dropped_pace"]) == (3, 1, 1)
    try:
        stats.frame_dropped(Verdict.RUN)
    except ValueError:
        pass
    else:
        raise AssertionError("a RUN verdict was counted as a drop")
