"""[drive] and [grbl]: validated strictly, unknown keys refused, documented in the example."""

from __future__ import annotations

from pathlib import Path

import pytest

from raild.config import Config, ConfigError, load_config
from raild.drives.grbl.settings import compare, expected_settings, fix_lines


def _problems(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "raild.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    return info.value.problems


def test_defaults_and_a_valid_file(tmp_path: Path) -> None:
    assert Config().drive.backend == "pigpio" and Config().grbl.baud == 115200
    path = tmp_path / "raild.toml"
    path.write_text('[drive]\nbackend = "grbl"\n[grbl]\nport = "socket://127.0.0.1:2000"\naxis = "Z"\nstatus_hz = 25\n')
    cfg = load_config(path)
    assert cfg.drive.backend == "grbl" and cfg.grbl.axis == "Z" and cfg.grbl.status_hz == 25.0


@pytest.mark.parametrize(
    ("text", "key", "fragment"),
    [
        ('[drive]\nbackend = "lgpio"\n', "drive.backend", "pigpio"),
        ("[grbl]\nbaud = '115200'\n", "grbl.baud", "valid integer"),
        ("[grbl]\nstatus_hz = '20'\n", "grbl.status_hz", "valid number"),
        ("[grbl]\nstatus_hz = 5\n", "grbl.status_hz", "greater than or equal to 10"),
        ("[grbl]\naxis = 'A'\n", "grbl.axis", "'X'"),
        ("[grbl]\nport = ''\n", "grbl.port", "at least 1"),
        ("[grbl]\nbuad = 9600\n", "grbl.buad", "unknown key"),
    ],
)
def test_bad_values_are_named(tmp_path: Path, text: str, key: str, fragment: str) -> None:
    problems = _problems(tmp_path, text)
    assert len(problems) == 1 and f"{key}:" in problems[0] and fragment in problems[0], problems


def test_expected_settings_follow_the_config() -> None:
    cfg = Config().with_overrides(rail={"lead_mm": 2.0, "microsteps": 4}, homing={"switch": "max"})
    want = {e.number: e for e in expected_settings(cfg, "Y")}
    assert want[101].want == 400.0 and want[111].want == 180.0 and want[121].want == 20.0
    assert want[23].kind == "bit" and want[23].bit == 1 and want[23].want == 0  # home towards max: positive
    nohome = Config().with_overrides(homing={"switch": "none"}, pins={"limit_min": 0})
    assert {e.number for e in expected_settings(nohome, "X")}.isdisjoint({23, 24, 25, 27})


def test_mismatches_are_fixed_with_homing_before_soft_limits() -> None:
    cfg = Config()
    have = {e.number: 0.0 for e in expected_settings(cfg, "X")}
    lines = fix_lines(compare(have, cfg, "X"))
    assert lines.index("$22=1") < lines.index("$20=1")
    assert "$100=3200.000" in lines and "$23=1" in lines and "$10=1" in lines


def test_grbl_homes_without_a_pi_limit_pin(tmp_path: Path) -> None:
    """grbl homes on the board's own switch: pins.limit_min = 0 is fine there, not with pigpio."""
    path = tmp_path / "raild.toml"
    path.write_text('[drive]\nbackend = "grbl"\n[pins]\nlimit_min = 0\n[homing]\nswitch = "min"\n')
    assert load_config(path).has_home_switch
    problems = _problems(tmp_path, '[pins]\nlimit_min = 0\n[homing]\nswitch = "min"\n')
    assert any("homing.switch" in p and "limit_min" in p for p in problems)
