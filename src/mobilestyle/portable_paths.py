"""Paths as they may be written into metadata, reports and docs: never the machine's absolute paths.

A recipe recorded on one machine must read the same on another. `portable_path` turns a path of this
machine into one that holds nowhere else's layout:

- anything under a `shared/data/` folder is written as seen from the repository root: the project's
  shared data sits beside every checkout, one level up;
- another absolute path inside `base` (default: the working folder) becomes relative to it;
- one under a `runs/` folder becomes `runs/<parent>/<name>` (a run's output: its own folder and name);
- any other absolute path keeps only its name.

Relative paths and strings that are not absolute paths are left exactly as they are. `portable_words`
does the same for the words of a command line, where a path may also follow `=` (`--out=PATH`, `LABEL=PATH`).
"""

from __future__ import annotations

import os
from pathlib import PurePosixPath

SHARED_DATA = ("shared", "data")
RUNS = "runs"


def is_absolute(value: str) -> bool:
    return isinstance(value, str) and value.startswith("/")


def _inside(path: str, base: str) -> str | None:
    """`path` relative to `base` when it lies inside it (as written or with links resolved), else None."""
    for candidate, folder in ((path, base), (os.path.realpath(path), os.path.realpath(base))):
        try:
            relative = PurePosixPath(candidate).relative_to(PurePosixPath(folder))
        except ValueError:
            continue
        return relative.as_posix() if relative.parts else "."
    return None


def portable_path(path: str | os.PathLike, base: str | os.PathLike | None = None) -> str:
    """`path` (a string or Path) as it may be recorded; see the module docstring for the rules."""
    text = os.fspath(path)
    if not is_absolute(text):
        return text
    normal = os.path.normpath(text)
    parts = PurePosixPath(normal).parts[1:]
    for index in range(len(parts) - 1):
        if parts[index:index + 2] == SHARED_DATA:
            return PurePosixPath("..", *SHARED_DATA, *parts[index + 2:]).as_posix()
    inside = _inside(normal, os.path.normpath(os.fspath(base) if base is not None else os.getcwd()))
    if inside is not None:
        return inside
    if RUNS in parts[:-1]:
        parent = parts[-2]
        return PurePosixPath(RUNS, *([] if parent == RUNS else [parent]), parts[-1]).as_posix()
    return parts[-1] if parts else "."


def portable(value, base: str | os.PathLike | None = None):
    """`value` with every absolute path string in it made portable (dicts and lists walked; keys kept)."""
    if isinstance(value, dict):
        return {key: portable(item, base) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(portable(item, base) for item in value)
    if isinstance(value, (str, os.PathLike)) and is_absolute(os.fspath(value)):
        return portable_path(value, base)
    return value


def portable_words(words, base: str | os.PathLike | None = None) -> list[str]:
    """Command-line words (`sys.argv[1:]`, say) as they may be recorded: every absolute path made portable,
    a whole word or the part after its first `=` (`--out=PATH`, `LABEL=PATH`); other words kept."""
    recorded = []
    for word in map(str, words):
        head, equals, tail = word.partition("=")
        if is_absolute(word):
            word = portable_path(word, base)
        elif equals and is_absolute(tail):
            word = f"{head}={portable_path(tail, base)}"
        recorded.append(word)
    return recorded
