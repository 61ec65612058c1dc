"""Writing outputs so that a failure never leaves a half-written file behind."""

import contextlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterator

from mobilestyle.errors import UserError


def ensure_writable_dir(directory: Path) -> Path:
    """Create `directory` if needed and check that files can be written in it."""
    directory = Path(directory)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"cannot create output folder {directory}: {exc.strerror or exc}") from None
    if not directory.is_dir():
        raise UserError(f"output path {directory} exists and is not a folder")
    if not os.access(directory, os.W_OK | os.X_OK):
        raise UserError(f"output folder {directory} is not writable")
    return directory


@contextlib.contextmanager
def atomic_path(final: Path) -> Iterator[Path]:
    """Yield a temporary path beside `final`; rename it into place only if the block succeeds.

    Works for files and folders (an .mlpackage is a folder). The temporary name keeps the
    final suffix so that libraries which infer the format from it still work.
    """
    final = Path(final)
    ensure_writable_dir(final.parent)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{final.stem}.", suffix=f".partial{final.suffix}", dir=final.parent)
    os.close(fd)
    os.unlink(tmp_name)
    tmp = Path(tmp_name)
    try:
        yield tmp
        if not tmp.exists():
            raise RuntimeError(f"nothing was written to {tmp}")
        if final.is_dir() and not final.is_symlink():
            shutil.rmtree(final)
        os.replace(tmp, final)
    finally:
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
        elif tmp.exists():
            tmp.unlink()
