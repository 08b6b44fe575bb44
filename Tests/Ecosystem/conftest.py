"""Fixtures for the ecosystem tests (Scripts/test-ecosystem): the end-to-end fixtures (the built
binary, the PyJWT key ring) and process helpers are shared with Tests/EndToEnd."""
import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
END_TO_END = ROOT / "Tests" / "EndToEnd"
sys.path.insert(0, str(END_TO_END))

_spec = importlib.util.spec_from_file_location("end_to_end_conftest", END_TO_END / "conftest.py")
end_to_end = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(end_to_end)

# Re-exported so pytest finds them as fixtures of this directory.
veto_bin = end_to_end.veto_bin
keyring = end_to_end.keyring
veto = end_to_end.veto
AUD, ISS, SEED = end_to_end.AUD, end_to_end.ISS, end_to_end.SEED


@pytest.fixture(scope="session")
def artifacts():
    """Where tests leave files worth looking at (screenshots, reports): .build/ecosystem."""
    path = ROOT / ".build" / "ecosystem"
    path.mkdir(parents=True, exist_ok=True)
    return path
