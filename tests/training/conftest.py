"""Lets the tests here import `numpy_reference` (test code, not part of the package)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
