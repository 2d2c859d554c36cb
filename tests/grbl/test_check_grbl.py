"""`raild check` findings for the grbl backend, against the emulator and bad ports."""

from __future__ import annotations

import pytest

from raild.drives.grbl.check import grbl_findings
from raild.sim.grbl.sim import GrblSim
from tests.grbl.conftest import grbl_config


def test_a_matching_board_is_ok_and_a_locked_one_warned() -> None:
    sim = GrblSim(grbl_config())
    sim.start_blocking()
    try:
        found = grbl_findings(sim.config.with_overrides(grbl={"port": sim.url}))
    finally:
        sim.stop_blocking()
    assert [f.level for f in found] == ["ok", "ok", "warn"]
    assert "grbl 1.1h answering" in found[0].message


def test_mismatched_settings_fail_with_the_fix_command() -> None:
    sim = GrblSim(grbl_config(), settings={100: 800.0})
    sim.start_blocking()
    try:
        found = grbl_findings(sim.config.with_overrides(grbl={"port": sim.url}))
    finally:
        sim.stop_blocking()
    fails = [f for f in found if f.level == "fail"]
    assert len(fails) == 1 and "$100" in fails[0].message and fails[0].fix == "raild check --fix-grbl"


def test_missing_device_names_it() -> None:
    found = grbl_findings(grbl_config().with_overrides(grbl={"port": "/dev/ttyACM97"}))
    assert len(found) == 1 and found[0].level == "fail" and "does not exist" in found[0].message


def test_unreachable_url_fails_cleanly() -> None:
    found = grbl_findings(grbl_config().with_overrides(grbl={"port": "socket://127.0.0.1:9"}))
    assert len(found) == 1 and found[0].level == "fail" and "cannot open" in found[0].message


def test_fix_grbl_writes_each_mismatch_once_and_reads_back(capsys: pytest.CaptureFixture[str]) -> None:
    from raild.drives.grbl.fix import run_fix_grbl

    sim = GrblSim(grbl_config(), settings={110: 500.0, 22: 0.0, 20: 0.0})
    sim.start_blocking()
    try:
        config = sim.config.with_overrides(grbl={"port": sim.url})
        assert run_fix_grbl(config) == 0
        out = capsys.readouterr().out
        assert "writing $110=180.000" in out and "writing $22=1" in out and "now agrees" in out
        assert out.index("writing $22=1") < out.index("writing $20=1")
        settings = sim.machine_status()["settings"]
        assert settings["110"] == 180.0 and settings["22"] == 1.0 and settings["20"] == 1.0
        assert run_fix_grbl(config) == 0
        assert "nothing written" in capsys.readouterr().out
    finally:
        sim.stop_blocking()
