from pathlib import Path

import pytest

from tests.emulator.fakes import FakeRunner
from mobilestyle.emulator.models import ModelSlot, load_model, models_beside, resolve_style, runner_factory
from mobilestyle.errors import UserError


def test_a_named_style_is_exported_once_into_the_cache(tmp_path, monkeypatch):
    from mobilestyle.networks.arch import ArchSpec
    from mobilestyle.networks.checkpoint import random_checkpoint, save_checkpoint

    models = tmp_path / "models"
    models.mkdir()
    save_checkpoint(random_checkpoint(ArchSpec.parse("blocks=1,width=0.25"), 0), models / "tiny.npz")
    monkeypatch.setenv("MOBILESTYLE_MODELS", str(models))
    monkeypatch.setenv("MOBILESTYLE_CACHE", str(tmp_path / "cache"))
    with pytest.raises(UserError, match="unknown style 'mosaic'; known styles: tiny"):
        resolve_style("mosaic")
    exported = resolve_style("tiny")
    assert exported == tmp_path / "cache" / "styles" / "exported" / "tiny.mlmodel" and exported.is_file()
    first_export = exported.stat().st_mtime_ns
    assert resolve_style("tiny") == exported and exported.stat().st_mtime_ns == first_export


def test_only_mlmodel_files_that_exist_are_loaded(tmp_path):
    (tmp_path / "net.onnx").write_bytes(b"x")
    with pytest.raises(UserError, match="not an exported style model"):
        load_model(tmp_path / "net.onnx", lambda path: FakeRunner(0))
    with pytest.raises(UserError, match="does not exist"):
        load_model(tmp_path / "gone.mlmodel", lambda path: FakeRunner(0))


def test_a_model_with_other_image_sizes_is_not_a_style_model_for_the_phone(tmp_path):
    (tmp_path / "classifier.mlmodel").write_bytes(b"x")
    with pytest.raises(UserError, match="maps 224x224 to 1000x1, expected 853x480 to 1920x1080"):
        load_model(tmp_path / "classifier.mlmodel", lambda path: FakeRunner(0, input_size=(224, 224), output_size=(1000, 1)))


def test_unknown_backend_is_a_user_error():
    with pytest.raises(UserError, match="--backend must be one of"):
        runner_factory("metal")


def wait_until_loaded(slot: ModelSlot) -> None:
    import time

    deadline = time.monotonic() + 10
    while slot.loading is not None and time.monotonic() < deadline:
        time.sleep(0.01)


def test_the_model_slot_cycles_through_the_models_of_the_folder(tmp_path):
    paths = [tmp_path / f"{name}.mlmodel" for name in ("a", "b", "c")]
    for path in paths:
        path.write_bytes(b"x")
    assert models_beside(paths[1]) == paths
    loaded = {}

    def make(path: Path) -> FakeRunner:
        loaded[path.stem] = FakeRunner(0, backend=path.stem)
        return loaded[path.stem]

    slot = ModelSlot(load_model(paths[0], make), models_beside(paths[0]), make)
    slot.step(-1)
    wait_until_loaded(slot)
    assert slot.model.name == "c" and slot.model.runner is loaded["c"]
    slot.step(1)
    wait_until_loaded(slot)
    assert slot.model.name == "a"


def test_a_model_that_fails_to_load_keeps_the_current_one_and_reports_why(tmp_path):
    good, bad = tmp_path / "a.mlmodel", tmp_path / "b.mlmodel"
    good.write_bytes(b"x")
    bad.write_bytes(b"x")

    def make(path: Path) -> FakeRunner:
        if path == bad:
            raise UserError(f"{path} is not a mobilestyle style model")
        return FakeRunner(0)

    slot = ModelSlot(load_model(good, make), [good, bad], make)
    slot.step(1)
    wait_until_loaded(slot)
    assert slot.model.name == "a" and "b.mlmodel" in slot.last_error
