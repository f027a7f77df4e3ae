"""Shared fixtures for the scoring tests: the toy instrument (scoring_toy.py) and the shipped one."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from scoring_toy import toy

from scoring import Instrument, load_instrument, load_instrument_file

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "instruments" / "jiaxing-v1.yaml"


@pytest.fixture(scope="session")
def toy_factory() -> Callable[[], dict[str, Any]]:
    """Return a function that builds a fresh toy instrument dict (safe to mutate)."""
    return toy


@pytest.fixture(scope="session")
def toy_instrument() -> Instrument:
    """Return the loaded toy instrument."""
    return load_instrument(toy(), source="toy")


@pytest.fixture(scope="session")
def shipped() -> Instrument:
    """Return the shipped Jiaxing instrument, loaded once per session."""
    return load_instrument_file(SHIPPED)
