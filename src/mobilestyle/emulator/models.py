"""Finding and loading the style models the emulator runs, and swapping them while it runs.

Models are exported `.mlmodel` files executed by the Linux runner (`mobilestyle.runner.ModelRunner`).
`--style NAME` runs a named style (`mobilestyle styles`): its checkpoint is exported once into
`<style cache>/exported/NAME.mlmodel` and re-exported when the checkpoint changes.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Protocol

import numpy as np

from mobilestyle import frame
from mobilestyle.errors import UserError

MODEL_SUFFIX = ".mlmodel"
BACKENDS = ("auto", "openvino", "onnxruntime", "cuda", "tensorrt")


class Runner(Protocol):
    """What the emulator needs from `mobilestyle.runner.ModelRunner`."""

    backend: str
    input_size: tuple[int, int]
    output_size: tuple[int, int]

    def run(self, rgb: np.ndarray) -> np.ndarray: ...


RunnerFactory = Callable[[Path], Runner]


@dataclass(frozen=True)
class LoadedModel:
    path: Path
    runner: Runner

    @property
    def name(self) -> str:
        return self.path.stem


def resolve_style(name: str) -> Path:
    """The exported model of a named style, exporting its checkpoint first when needed."""
    from mobilestyle.export.coreml import export_coreml
    from mobilestyle.networks.checkpoint import load_checkpoint
    from mobilestyle.styles import cache_dir, find_style

    style = find_style(name)
    exported = cache_dir() / "exported" / f"{name}{MODEL_SUFFIX}"
    if not exported.is_file() or exported.stat().st_mtime < style.checkpoint.stat().st_mtime:
        export_coreml(load_checkpoint(style.checkpoint), exported.parent, name)
    return exported


def models_beside(path: Path) -> list[Path]:
    """The exported models in the folder of `path` (the ones the window's keys cycle through), by name."""
    return sorted(p for p in Path(path).parent.glob(f"*{MODEL_SUFFIX}") if p.is_file())


def runner_factory(backend: str = "auto", threads: int | None = None) -> RunnerFactory:
    if backend not in BACKENDS:
        raise UserError(f"--backend must be one of {', '.join(BACKENDS)} (got {backend!r})")

    def make(path: Path) -> Runner:
        from mobilestyle.runner import ModelRunner

        return ModelRunner(path, backend=backend, threads=threads)

    return make


def load_model(path: Path, make_runner: RunnerFactory) -> LoadedModel:
    """Load an exported style model and check that it maps the phone's 853x480 input to a 1080p frame."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"model {path} does not exist")
    if path.suffix != MODEL_SUFFIX:
        raise UserError(f"{path} is not an exported style model (expected a {MODEL_SUFFIX} file from `mobilestyle export`)")
    runner = make_runner(path)
    expected_in = (frame.INPUT_WIDTH, frame.INPUT_HEIGHT)
    expected_out = (frame.OUTPUT_WIDTH, frame.OUTPUT_HEIGHT)
    if tuple(runner.input_size) != expected_in or tuple(runner.output_size) != expected_out:
        raise UserError(f"{path} is not a style model for the phone: it maps {_size(runner.input_size)} to "
                        f"{_size(runner.output_size)}, expected {_size(expected_in)} to {_size(expected_out)}")
    return LoadedModel(path, runner)


def _size(size: Any) -> str:
    return "x".join(str(v) for v in size)


class ModelSlot:
    """The model in use; the window swaps it for another one, loaded on a background thread."""

    def __init__(self, model: LoadedModel, choices: list[Path], make_runner: RunnerFactory):
        self._model = model
        self._choices = choices or [model.path]
        self._make_runner = make_runner
        self._lock = threading.Lock()
        self.loading: str | None = None
        self.last_error: str | None = None
        self.check: Callable[[LoadedModel], object] | None = None
        """Called on a newly loaded model before it replaces the current one; an error keeps the current one."""

    @property
    def model(self) -> LoadedModel:
        with self._lock:
            return self._model

    def step(self, offset: int) -> None:
        """Start loading the model `offset` places after the current one in the folder (wrapping round)."""
        if self.loading is not None or len(self._choices) < 2:
            return
        current = self.model.path
        index = self._choices.index(current) if current in self._choices else 0
        target = self._choices[(index + offset) % len(self._choices)]
        self.loading = target.stem
        threading.Thread(target=self._load, args=(target,), name="model-loader", daemon=True).start()

    def _load(self, path: Path) -> None:
        try:
            model = load_model(path, self._make_runner)
            if self.check is not None:
                self.check(model)
        except Exception as exc:  # shown in the HUD; the current model keeps running
            self.last_error = f"{path.name}: {exc}"
        else:
            with self._lock:
                self._model = model
            self.last_error = None
        finally:
            self.loading = None
