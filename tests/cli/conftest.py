import sys

import pytest

from mobilestyle.cli import main


@pytest.fixture
def run_cli(monkeypatch, capsys):
    """Run `mobilestyle ARGS...` in-process; return (exit code, stdout, stderr)."""

    def run(*args: str):
        monkeypatch.setattr(sys, "argv", ["mobilestyle", *map(str, args)])
        try:
            main()
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


def assert_one_line_error(code: int, err: str, fragment: str) -> None:
    assert code != 0
    assert "Traceback" not in err
    lines = [line for line in err.strip().splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one error line, got: {err!r}"
    assert lines[0].startswith("error:") and fragment in lines[0], lines[0]
