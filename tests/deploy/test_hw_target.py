"""How the hardware tests pick their rig: pigpiod where PIGPIO_ADDR/PORT say, else a
`raild sim-rig` of their own."""

from __future__ import annotations

from pathlib import Path

import pytest

from hw_tests.rig import find_target, start_sim_rig, stop_sim_rig, write_config
from raild.config import Config, load_config
from tests.support.ports import free_port


def _closed_port() -> int:
    return free_port()  # nothing listens there


def test_without_pigpiod_a_private_sim_rig_is_started(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIGPIO_ADDR", "127.0.0.1")
    monkeypatch.setenv("PIGPIO_PORT", str(_closed_port()))
    monkeypatch.delenv("RAILD_CONFIG", raising=False)
    target = find_target(tmp_path)
    try:
        assert target.simulated and target.inspector is not None
        assert "no pigpiod at 127.0.0.1:" in target.notes[0]
        assert target.inspector.ask("position")["true_position_um"] == 3_000.0
    finally:
        assert target.process is not None
        stop_sim_rig(target.process)
    assert target.process.returncode == 0


def test_explicit_address_of_a_sim_rig_is_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    theirs = start_sim_rig(Config(), tmp_path)
    try:
        monkeypatch.setenv("PIGPIO_PORT", str(theirs.port))
        monkeypatch.delenv("RAILD_CONFIG", raising=False)
        target = find_target(tmp_path)
        assert (target.port, target.simulated, target.process) == (theirs.port, True, None)
        assert target.inspector is not None and target.inspector.ask("status")["port"] == theirs.port
    finally:
        assert theirs.process is not None
        stop_sim_rig(theirs.process)


def test_written_config_round_trips(tmp_path: Path) -> None:
    config = Config().with_overrides(api={"cors_origins": ["http://laptop.local:3000"]}, rail={"soft_max_um": 90_000.0})
    assert load_config(write_config(config, tmp_path / "c.toml")) == config
