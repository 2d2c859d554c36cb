"""Routes translate HTTP only: the rules and the file system live below them.

A route module that imports a file-system or pattern module has started doing a
layer's work (a folder path, a name check, a file read); this fails then. Motion
modules import alone, so no import cycle hides behind the package's import order.
A limit shown in two places comes from one rule.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path
from typing import cast

import pytest

import raild.api.routes
from raild.config import Config
from raild.daemon import Daemon
from raild.drives.protocol import Drive
from raild.events import EventBus
from raild.motion import Rail

ROUTES = sorted(Path(raild.api.routes.__file__).parent.glob("*.py"))
# The file system, patterns and clocks belong to the layers (stacks, camera, focus).
FORBIDDEN = {"os", "pathlib", "shutil", "re", "glob", "tempfile", "raild.files", "raild.atomic", "raild.stacks.store"}


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module is not None:
            names.add(node.module)
    return names


def test_the_routes_are_all_checked() -> None:
    assert {p.stem for p in ROUTES} >= {"camera", "focus", "motion", "stacks", "presets", "status"}


@pytest.mark.parametrize("path", ROUTES, ids=lambda p: p.stem)
def test_routes_leave_files_and_patterns_to_the_layers(path: Path) -> None:
    assert not _imports(path) & FORBIDDEN


def test_a_route_doing_a_layers_work_is_caught(tmp_path: Path) -> None:
    route = tmp_path / "route.py"
    route.write_text("import re\nfrom pathlib import Path\n")
    assert _imports(route) & FORBIDDEN == {"re", "pathlib"}


@pytest.mark.parametrize("module", ["raild.motion.homing", "raild.motion.rail"])
def test_motion_modules_import_alone(module: str) -> None:
    done = subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def test_the_status_while_the_rail_is_down_shows_the_rails_own_limits(tmp_path: Path) -> None:
    config = Config()
    assert config.pins.limit_min and config.pins.limit_max  # switches fitted: the limits keep clear of them
    rail = Rail(config, None, EventBus(), drive=cast(Drive, object()))  # limits only; never started
    down = Daemon(config, tmp_path, "t" * 40, sim=True).status()
    assert down["state"] == "fault"
    min_um, max_um = rail.limits_um()
    assert down["limits"] == {"min_um": min_um, "max_um": max_um}
    assert (min_um, max_um) != (config.rail.soft_min_um, config.rail.soft_max)
