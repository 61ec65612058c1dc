"""distill_report's curve files: what `write_curve_files` writes, `read_curve` reads back as numbers."""

import pytest

from mobilestyle.errors import UserError
from mobilestyle.training.distill_report import read_curve, write_curve, write_curve_files

CURVE = [{"step": 0, "minutes": 0.0, "cpu_minutes": 0.408, "structure_psnr": 20.3643, "gram_distance": None,
          "detail_ratio": 0.872, "border": 11.59},
         {"step": 120, "minutes": 5.01, "cpu_minutes": 9.875, "structure_psnr": 20.5, "gram_distance": 0.71,
          "detail_ratio": 0.9, "border": 10.2}]


def test_a_written_curve_reads_back_as_numbers_from_the_file_or_its_folder(tmp_path):
    write_curve(tmp_path, CURVE, "a run")
    assert (tmp_path / "curve.png").stat().st_size > 0
    assert read_curve(tmp_path) == CURVE == read_curve(tmp_path / "curve.csv")
    assert isinstance(read_curve(tmp_path)[1]["step"], int)


def test_a_file_that_is_not_a_curve_is_a_one_line_error(tmp_path):
    write_curve_files(tmp_path / "c.csv", tmp_path / "c.png", CURVE, "a run")
    with pytest.raises(UserError, match=r"c.csv is not a distillation curve \(no points, or no run/step columns\)"):
        read_curve(tmp_path / "c.csv", ("run", "step"))
    with pytest.raises(UserError, match="no curve at"):
        read_curve(tmp_path / "missing")
