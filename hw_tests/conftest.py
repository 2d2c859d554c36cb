"""Fixtures for the hardware-in-the-loop tests (see hw_tests/rig.py and docs/hardware.md)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pigpio
import pytest

from hw_tests.rig import Target, find_target, raild_service_active, stop_sim_rig
from raild.hw.connect import open_pi
from raild.hw.driver import disable_driver
from raild.hw.errors import HardwareUnavailable

_REPORT: list[str] = []


def report(line: str) -> None:
    """A measurement for the end-of-run summary (pytest prints it even when quiet)."""
    _REPORT.append(line)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _REPORT:
        terminalreporter.section("raild hardware tests")
        for line in _REPORT:
            terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    try:
        found = find_target(tmp_path_factory.mktemp("hw"))
    except RuntimeError as exc:
        pytest.skip(f"no pigpiod and the virtual rig would not start: {exc}")
    if not found.simulated and raild_service_active():
        pytest.skip("raild.service is running and owns the rig; stop it first: sudo systemctl stop raild")
    report(f"target: {found.label}" + "".join(f"; {note}" for note in found.notes))
    try:
        yield found
    finally:
        if found.process is not None:
            stop_sim_rig(found.process)


@pytest.fixture
def pi(target: Target) -> Iterator[pigpio.pi]:
    try:
        conn = open_pi(target.host, target.port)
    except HardwareUnavailable as exc:
        pytest.skip(str(exc))
    try:
        yield conn
    finally:
        # Leave the rig safe whatever the test did: no wave, STEP low, driver off.
        try:
            disable_driver(conn, target.config.pins)
        finally:
            conn.stop()


@pytest.fixture
def work_dir(tmp_path: Path) -> Path:
    return tmp_path
