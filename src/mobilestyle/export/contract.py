"""The contract file (`NAME.contract.json`) that tells the iOS app how to feed an exported model."""

import json
from pathlib import Path
from typing import Any

from mobilestyle import __version__, frame
from mobilestyle.errors import UserError

CONTRACT_FORMAT = "mobilestyle.contract/1"


def build_contract(
    name: str,
    model_file: str,
    model_format: str,
    minimum_ios: str,
    style: dict[str, Any],
    architecture: str,
    macs: int,
    parameters: int,
) -> dict[str, Any]:
    return {
        "format": CONTRACT_FORMAT,
        "name": name,
        "model_file": model_file,
        "model_format": model_format,
        "minimum_ios": minimum_ios,
        "input": {
            "name": frame.INPUT_NAME,
            "type": "image",
            "color_layout": "RGB",
            "width": frame.INPUT_WIDTH,
            "height": frame.INPUT_HEIGHT,
            "pixel_range": [0, 255],
        },
        "output": {
            "name": frame.OUTPUT_NAME,
            "type": "image",
            "color_layout": "RGB",
            "width": frame.OUTPUT_WIDTH,
            "height": frame.OUTPUT_HEIGHT,
            "pixel_range": [0, 255],
        },
        "camera": {"width": frame.CAMERA_WIDTH, "height": frame.CAMERA_HEIGHT, "pixel_format": "BGRA"},
        "fps_target": frame.FPS_TARGET,
        "style": style,
        "architecture": architecture,
        "macs": macs,
        "parameters": parameters,
        "mobilestyle_version": __version__,
    }


def write_contract(contract: dict[str, Any], path: Path) -> None:
    from mobilestyle.files import atomic_path

    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(contract, indent=2) + "\n")


def read_contract(path: Path) -> dict[str, Any]:
    try:
        contract = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise UserError(f"cannot read contract {path}: {exc}") from None
    if not isinstance(contract, dict) or contract.get("format") != CONTRACT_FORMAT:
        raise UserError(f"{path} is not a mobilestyle contract (expected format {CONTRACT_FORMAT})")
    return contract
