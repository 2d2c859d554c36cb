"""`raild check` with `[drive] backend = "grbl"`: the grbl findings replace pigpiod's, and a
Pi 5 is a fine board (against the grbl emulator over socket://, simulated)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from raild.check import check_board, collect
from raild.config import Config
from raild.sim.grbl.sim import GrblSim

PI5_CPUINFO = "processor\t: 0\nRevision\t: c04170\nModel\t: Raspberry Pi 5\n"


@pytest.fixture
def board() -> Iterator[GrblSim]:
    sim = GrblSim(Config())
    sim.start_blocking()
    try:
        yield sim
    finally:
        sim.stop_blocking()


def _config(tmp_path: Path, port: str, **grbl: object) -> Config:
    return Config.model_validate(
        {
            "drive": {"backend": "grbl"},
            "grbl": {"port": port, "connect_timeout_s": 2.0, **grbl},
            "camera": {"backend": "sim"},
            "daemon": {"state_dir": str(tmp_path)},
        }
    )


def test_grbl_backend_checks_the_board_not_pigpiod_and_accepts_a_pi5(board: GrblSim, tmp_path: Path) -> None:
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(PI5_CPUINFO)
    findings = collect(_config(tmp_path, board.url), None, cpuinfo=cpuinfo)
    areas = {f.area for f in findings}
    assert "pigpiod" not in areas
    assert any(f.area == "grbl" and f.level == "ok" and "answering" in f.message for f in findings), findings
    assert any(f.area == "grbl settings" and f.level == "ok" for f in findings), findings
    (pi,) = [f for f in findings if f.area == "board"]
    assert pi.level == "ok" and "Raspberry Pi 5" in pi.message and "BCM2712" in pi.message


def test_grbl_backend_with_mismatched_settings_fails_naming_the_fix(board: GrblSim, tmp_path: Path) -> None:
    config = _config(tmp_path, board.url).with_overrides(rail={"max_speed_um_s": 2500.0})
    bad = [f for f in collect(config, None, cpuinfo=tmp_path / "none") if f.level == "fail"]
    assert bad and all(f.area == "grbl settings" for f in bad), bad
    assert any("--fix-grbl" in (f.fix or "") for f in bad)


def test_grbl_backend_with_a_missing_device_fails(tmp_path: Path) -> None:
    bad = [f for f in collect(_config(tmp_path, str(tmp_path / "ttyACM9")), None) if f.level == "fail"]
    assert [f.area for f in bad] == ["grbl"] and "does not exist" in bad[0].message


def test_pi5_with_pigpio_says_grbl_is_the_way() -> None:
    (finding,) = check_board(0xC04170, "test")
    assert finding.level == "fail" and "grbl" in (finding.fix or "")
