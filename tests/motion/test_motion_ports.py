"""Homing and jog drive the rail through `RailPort` alone.

They may use only the Protocol's public members: never a private attribute of
the rail, never the `Rail` class itself. The Protocol holds exactly what they
use, and the `Rail` has every member of it (mypy checks the types where the
Rail hands itself to them; this checks the names without mypy).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path
from typing import cast

import pytest

import raild.motion.homing
import raild.motion.jog
from raild.config import Config
from raild.drives.protocol import Drive
from raild.events import EventBus
from raild.motion import Rail
from raild.motion.ports import RailPort

USERS = {"homing": Path(raild.motion.homing.__file__), "jog": Path(raild.motion.jog.__file__)}


def _rail_attributes(source: str) -> set[str]:
    """The attributes read or written on `rail` or `self.rail` (first level only)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Attribute):
            continue
        owner = node.value
        is_rail = (isinstance(owner, ast.Name) and owner.id == "rail") or (
            isinstance(owner, ast.Attribute)
            and owner.attr == "rail"
            and isinstance(owner.value, ast.Name)
            and owner.value.id == "self"
        )
        if is_rail:
            names.add(node.attr)
    return names


def _imported_modules(source: str) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module is not None:
            names.add(node.module)
    return names


def _port_members() -> set[str]:
    methods = {name for name in vars(RailPort) if not name.startswith("_")}
    return methods | set(RailPort.__annotations__)


@pytest.mark.parametrize("module", sorted(USERS))
def test_homing_and_jog_touch_no_private_member_of_the_rail(module: str) -> None:
    used = _rail_attributes(USERS[module].read_text())
    assert used, "the check found no use of the rail at all: it is looking at the wrong names"
    assert not {name for name in used if name.startswith("_")}


@pytest.mark.parametrize("module", sorted(USERS))
def test_homing_and_jog_use_only_the_port(module: str) -> None:
    source = USERS[module].read_text()
    assert _rail_attributes(source) <= _port_members()
    assert "raild.motion.rail" not in _imported_modules(source)  # not even for types


def test_the_port_holds_only_what_homing_and_jog_use() -> None:
    used = set().union(*(_rail_attributes(path.read_text()) for path in USERS.values()))
    assert _port_members() == used


def test_a_private_reach_is_caught() -> None:
    source = "async def f(rail):\n    rail._check_ready()\n    self.rail._fault = None\n    rail.config.rail._x\n"
    assert _rail_attributes(source) == {"_check_ready", "_fault", "config"}


def test_the_rail_has_every_member_of_the_port() -> None:
    rail = Rail(Config(), None, EventBus(), drive=cast(Drive, object()))  # never started
    missing = {name for name in _port_members() if not hasattr(rail, name)}
    assert not missing
    assert rail.real_s_per_drive_s == 1.0  # no pigpiod: the drive keeps wall-clock time
    assert rail.soft_limits_apply is False  # not homed


@pytest.mark.parametrize("module", ["raild.motion.ports", "raild.motion.homing", "raild.motion.jog"])
def test_the_motion_helpers_import_alone(module: str) -> None:
    done = subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
