"""The rows of the flicker benchmarks: "x steadier than blur" read off the blur curve, and measure_clip with
fake nets (a static pattern over the frame flickers: it does not move with the picture)."""

import cv2
import numpy as np
import pytest

from mobilestyle.evaluation.clip_flicker import (Net, add_steadier_than_blur, blur_curve, measure_clip,
                                                 steadier_text, steadier_than_blur, steadier_than_sharpest)
from mobilestyle.flicker import clip_flows
from tests.media import clip_frame

# (detail ratio, warping error): two blurred teachers and the teacher itself at 1.0.
CURVE = [(0.2, 1.0e-3), (0.5, 2.0e-3), (1.0, 6.0e-3)]
PATTERN = (np.indices((36, 64)).sum(0) % 2)[..., None] * 60.0


def with_pattern(image: np.ndarray, strength: float) -> np.ndarray:
    return np.clip(image + strength * PATTERN, 0, 255).astype(np.uint8)


def fake_teacher(image):
    return with_pattern(image, 1.0)


def fake_student(image):
    return with_pattern(cv2.GaussianBlur(image, (0, 0), 1.0), 0.3)


@pytest.fixture(scope="module")
def clip():
    frames = [clip_frame(index, 64, 36) for index in range(5)]
    return frames, clip_flows(frames)


def test_inside_the_curve_the_blurred_teacher_s_error_is_interpolated_linearly():
    assert steadier_than_blur(CURVE, 0.75, 1.0e-3) == pytest.approx(4.0)  # halfway from 2e-3 to 6e-3
    assert steadier_than_blur(CURVE, 0.35, 0.5e-3) == pytest.approx(3.0)  # halfway from 1e-3 to 2e-3
    assert steadier_than_blur(CURVE, 0.5, 4.0e-3) == pytest.approx(0.5)  # on a point; above the curve: below 1
    assert steadier_than_blur(CURVE, 1.0, 3.0e-3) == pytest.approx(2.0)  # the teacher's end is inside


def test_outside_the_curve_there_is_no_figure_rather_than_an_extrapolated_one():
    assert steadier_than_blur(CURVE, 0.19, 1.0e-3) is None
    assert steadier_than_blur(CURVE, 1.01, 1.0e-3) is None


def test_a_student_sharper_than_the_teacher_gets_the_teacher_s_error_over_its_own_as_a_lower_bound():
    assert steadier_than_sharpest(CURVE, 1.2, 2.0e-3) == pytest.approx(3.0)
    assert steadier_than_sharpest(CURVE, 1.2, 12.0e-3) == pytest.approx(0.5)  # flickers more: below 1
    assert steadier_than_sharpest(CURVE[::-1], 1.2, 2.0e-3) == pytest.approx(3.0)
    assert steadier_than_sharpest(CURVE, 1.0, 2.0e-3) is None  # at the teacher's detail: inside the curve
    assert steadier_than_sharpest(CURVE, 0.1, 2.0e-3) is None  # blurrier than the curve: no bound either way
    assert steadier_than_sharpest(CURVE[-1:], 1.2, 2.0e-3) is None
    assert steadier_than_sharpest(CURVE, 1.2, 0.0) is None


def test_the_table_cell_gives_the_figure_the_bound_or_the_caller_s_text():
    assert steadier_text({"steadier_than_blur": 1.934}) == "1.93"
    assert steadier_text({"steadier_than_blur_at_least": 1.273}, "outside") == "≥ 1.27"
    assert steadier_text({}, "outside") == "outside" and steadier_text({}) == ""


def test_a_curve_of_one_point_or_a_student_without_error_gives_no_figure():
    assert steadier_than_blur(CURVE[-1:], 1.0, 1.0e-3) is None
    assert steadier_than_blur(CURVE, 0.5, 0.0) is None


def test_the_curve_s_points_may_come_in_any_order_and_a_rising_curve_gives_a_rising_figure():
    details = np.linspace(0.2, 1.0, 17)
    figures = [steadier_than_blur(CURVE, detail, 1.0e-3) for detail in details]
    assert [steadier_than_blur(CURVE[::-1], detail, 1.0e-3) for detail in details] == figures
    assert np.all(np.diff(figures) > 0)
    assert figures[0] == pytest.approx(1.0) and figures[-1] == pytest.approx(6.0)


def test_only_students_inside_the_curve_get_the_figure_and_only_sharper_ones_the_bound():
    rows = [{"row": "input (floor)", "warping_error": 0.1e-3},
            {"row": "t blurred", "kind": "blurred teacher", "warping_error": 2.0e-3, "detail_ratio": 0.5},
            {"row": "t", "kind": "teacher", "warping_error": 6.0e-3, "detail_ratio": 1.0},
            {"row": "inside", "kind": "student", "warping_error": 1.0e-3, "detail_ratio": 0.75},
            {"row": "sharper than the teacher", "kind": "student", "warping_error": 1.0e-3, "detail_ratio": 1.2},
            {"row": "damped", "warping_error": 0.5e-3}]
    add_steadier_than_blur(rows)
    assert blur_curve(rows) == [(0.5, 2.0e-3), (1.0, 6.0e-3)]
    assert [row.get("steadier_than_blur") for row in rows] == [None, None, None, pytest.approx(4.0), None, None]
    assert [row.get("steadier_than_blur_at_least") for row in rows] == [None] * 4 + [pytest.approx(6.0), None]


def test_without_a_blurred_teacher_no_student_gets_the_figure():
    rows = [{"row": "t", "kind": "teacher", "warping_error": 6.0e-3, "detail_ratio": 1.0},
            {"row": "s", "kind": "student", "warping_error": 1.0e-3, "detail_ratio": 1.0}]
    add_steadier_than_blur(rows)
    assert "steadier_than_blur" not in rows[1] and "steadier_than_blur_at_least" not in rows[1]


def test_measure_clip_gives_blurred_teachers_then_the_teacher_then_each_student_with_its_extras(clip):
    frames, flows = clip
    extras = []

    def damped(label, outputs):
        extras.append((label, len(outputs)))
        return [{"row": f"{label} damped", "warping_error": 0.0, "rms_grey": 0.0}]

    rows = measure_clip(frames, flows, Net("t", fake_teacher), [Net("s", fake_student)], [0.5, 1.5],
                        student_extras=damped)
    assert [(row["row"], row.get("kind")) for row in rows] == [
        ("t blurred (sigma 0.5 px)", "blurred teacher"), ("t blurred (sigma 1.5 px)", "blurred teacher"),
        ("t", "teacher"), ("s", "student"), ("s damped", None)]
    assert extras == [("s", len(frames))]
    blurred_half, blurred_more, teacher, student = rows[:4]
    assert teacher["detail_ratio"] == pytest.approx(1.0)
    assert 1.0 > blurred_half["detail_ratio"] > blurred_more["detail_ratio"] > 0
    assert teacher["warping_error"] > blurred_half["warping_error"] > blurred_more["warping_error"]
    assert student["steadier_than_blur"] == pytest.approx(
        steadier_than_blur(blur_curve(rows), student["detail_ratio"], student["warping_error"]))


def test_without_a_teacher_students_have_no_detail_ratio_and_blurring_is_refused(clip):
    frames, flows = clip
    rows = measure_clip(frames, flows, None, [Net("s", fake_student)])
    assert [set(row) for row in rows] == [{"row", "kind", "warping_error", "rms_grey"}]
    with pytest.raises(ValueError, match="need a teacher"):
        measure_clip(frames, flows, None, [Net("s", fake_student)], [1.0])
