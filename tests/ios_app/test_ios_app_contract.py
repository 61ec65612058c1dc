"""The Swift constants the app feeds models with are generated from the exporter's own contract."""

import json
import subprocess
import sys

import pytest

from ios_app_paths import APP_SOURCES, CORE_SOURCES, GENERATED_CONSTANTS, GENERATOR, swift_files


def fresh_contract(contract_module, name="muse"):
    return contract_module.build_contract(
        name=name,
        model_file=f"{name}.mlmodel",
        model_format="neuralnetwork",
        minimum_ios="14.0",
        style={"name": name, "source_painting": "test painting", "licence": "test"},
        architecture="blocks=3",
        macs=1,
        parameters=1,
    )


def test_committed_constants_equal_a_fresh_generation(generator, contract_module):
    expected = generator.render_swift(fresh_contract(contract_module))
    assert GENERATED_CONSTANTS.read_text() == expected, (
        "ModelContract+Generated.swift is stale: regenerate it with "
        "python ios_app/tools/generate_contract_swift.py NAME.contract.json"
    )


def test_constants_do_not_depend_on_the_style(generator, contract_module):
    assert generator.render_swift(fresh_contract(contract_module, "muse")) == generator.render_swift(
        fresh_contract(contract_module, "udnie")
    )


def test_a_changed_contract_changes_the_constants(generator, contract_module):
    contract = fresh_contract(contract_module)
    contract["input"]["width"] = 854
    swift = generator.render_swift(contract)
    assert "public static let inputWidth = 854\n" in swift
    assert swift != GENERATED_CONSTANTS.read_text()


def test_generated_values_match_the_contract(generator, contract_module):
    contract = fresh_contract(contract_module)
    swift = generator.render_swift(contract)
    assert f'public static let inputName = "{contract["input"]["name"]}"' in swift
    assert f'public static let outputName = "{contract["output"]["name"]}"' in swift
    assert f'public static let outputHeight = {contract["output"]["height"]}\n' in swift
    assert f'public static let fpsTarget = {contract["fps_target"]}\n' in swift


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda c: c.update(format="other/1"), "not a mobilestyle contract"),
        (lambda c: c["input"].pop("height"), "input.height"),
        (lambda c: c["output"].update(width="1920"), "output.width must be a positive integer"),
        (lambda c: c["input"].update(name='image"; evil'), "input.name must be a plain identifier"),
        (lambda c: c["output"].update(type="multiarray"), "output must be an image"),
    ],
)
def test_generator_rejects_malformed_contracts(generator, contract_module, edit, message):
    contract = fresh_contract(contract_module)
    edit(contract)
    with pytest.raises(generator.ContractError, match=message):
        generator.render_swift(contract)


def test_generator_command_line(tmp_path, contract_module):
    source = tmp_path / "muse.contract.json"
    source.write_text(json.dumps(fresh_contract(contract_module)))
    target = tmp_path / "Constants.swift"
    result = subprocess.run([sys.executable, str(GENERATOR), str(source), str(target)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert target.read_text() == GENERATED_CONSTANTS.read_text()

    source.write_text("{}")
    bad_target = tmp_path / "Bad.swift"
    result = subprocess.run([sys.executable, str(GENERATOR), str(source), str(bad_target)], capture_output=True, text=True)
    assert result.returncode == 1
    assert "not a mobilestyle contract" in result.stderr
    assert not bad_target.exists()


def test_every_generated_constant_is_used_by_swift_code():
    used = "\n".join(path.read_text() for path in swift_files(APP_SOURCES, CORE_SOURCES) if path != GENERATED_CONSTANTS)
    for name in ("inputName", "outputName", "inputWidth", "inputHeight", "outputWidth", "outputHeight",
                 "cameraWidth", "cameraHeight", "fpsTarget", "contractFormat", "featureType"):
        assert f"ModelContractConstants.{name}" in used, f"ModelContractConstants.{name} is never used"
