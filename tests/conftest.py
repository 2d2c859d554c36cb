"""Fixtures shared by every test folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.ports import free_port as free_port  # re-exported for the tests here

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture
def example_config() -> Path:
    return REPO / "config" / "raild.toml"
