"""Fixtures for the iOS app's consistency checks (fast, no network, no Swift toolchain)."""

import sys

import pytest

from ios_app_paths import GENERATOR, REPO_ROOT
from tests.conftest import load_script


@pytest.fixture(scope="session")
def generator():
    """ios_app/tools/generate_contract_swift.py, loaded as a module (it is a standalone script)."""
    return load_script(GENERATOR, "generate_contract_swift")


@pytest.fixture(scope="session")
def contract_module():
    """mobilestyle.export.contract, from the installed package or from src/ when it is not installed."""
    try:
        import mobilestyle.export.contract as contract
    except ImportError:
        sys.path.insert(0, str(REPO_ROOT / "src"))
        import mobilestyle.export.contract as contract
    return contract
