"""Config validation: every rule has a bad file, an exit code and a message."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from raild.config import EX_CONFIG, Config, ConfigError, load_config


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "raild.toml"
    path.write_text(text)
    return path


def _problems(tmp_path: Path, text: str) -> list[str]:
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    return info.value.problems


def test_example_file_equals_the_defaults(example_config: Path) -> None:
    assert load_config(example_config) == Config()


def test_every_default_key_is_documented_in_the_example(example_config: Path) -> None:
    data = tomllib.loads(example_config.read_text())
    text = example_config.read_text()
    for section, model in Config.model_fields.items():
        assert section in data, section
        for key in model.annotation.model_fields:  # type: ignore[union-attr]
            assert key in text, f"[{section}] {key} is not documented in config/raild.toml"


def test_defaults_fit_a_common_rail() -> None:
    cfg = Config()
    assert cfg.rail.steps_per_mm == 3200
    assert cfg.rail.soft_max == 100_000


@pytest.mark.parametrize(
    ("text", "key", "fragment"),
    [
        ("[rail]\ntravl_mm = 5\n", "rail.travl_mm", "unknown key"),
        ("[camra]\nbackend = 'sim'\n", "camra", "unknown key"),
        ("[rail]\ntravel_mm = 'long'\n", "rail.travel_mm", "valid number"),
        ("[rail]\ntravel_mm = -1\n", "rail.travel_mm", "greater than 0"),
        ("[rail]\nmicrosteps = 3\n", "rail.microsteps", "16"),
        ("[rail]\nmax_speed_um_s = nan\n", "rail.max_speed_um_s", "finite"),
        (
            "[rail]\nstart_speed_um_s = 5000\nmax_speed_um_s = 4000\n",
            "rail.start_speed_um_s",
            "less than max_speed_um_s",
        ),
        ("[rail]\nsoft_min_um = 500\nsoft_max_um = 400\n", "rail.soft_max_um", "greater than soft_min_um"),
        ("[rail]\nsoft_max_um = 200000\n", "rail.soft_max_um", "within the travel"),
        ("[pins]\nstep = 28\n", "pins.step", "BCM 2-27"),
        ("[pins]\nstep = 1\n", "pins.step", "BCM 2-27"),
        ("[pins]\nfocus = 20\n", "pins.focus", "already used by pins.step"),
        ("[pins]\nlimit_min = 40\n", "pins.limit_min", "or 0 (not fitted)"),
        ("[homing]\napproach_speed_um_s = 3000\n", "homing.approach_speed_um_s", "less than seek_speed_um_s"),
        ("[pins]\nlimit_min = 0\n", "homing.switch", "not fitted"),
        ("[camera]\nbackend = 'canon'\n", "camera.backend", "'sim', 'gphoto2' or 'gpio'"),
        ("[api]\nport = 70000\n", "api.port", "less than or equal to 65535"),
        ("[api]\ncors_origins = ['*']\n", "api.cors_origins", "never '*'"),
        ("[api]\nheader_timeout_s = '10'\n", "api.header_timeout_s", "valid number"),
        ("[api]\nheader_timeout_s = 0\n", "api.header_timeout_s", "greater than 0"),
        ("[api]\nmax_connections_per_client = 0\n", "api.max_connections_per_client", "greater than or equal to 1"),
        ("[api]\nlimit_concurrency = '100'\n", "api.limit_concurrency", "valid integer"),
        ("[api]\nallowed_hosts = ['http://rig.lan']\n", "api.allowed_hosts", "not a host name"),
        ("[api]\nallowed_hosts = ['*']\n", "api.allowed_hosts", "not a host name"),
        ("[daemon]\nname = 'my rig'\n", "daemon.name", "pattern"),
        ("rail = 5\n", "rail", "valid dictionary"),
        ("[rail]\njog_deadman_ms = '500'\n", "rail.jog_deadman_ms", "valid integer"),
        ("[rail]\njog_deadman_ms = 10\n", "rail.jog_deadman_ms", "greater than or equal to 50"),
        ("[rail]\nidle_off_forgets_position = 'yes'\n", "rail.idle_off_forgets_position", "valid boolean"),
        ("[pins]\nlimit_glitch_us = 400000\n", "pins.limit_glitch_us", "less than or equal to 300000"),
        ("[pins]\nlimit_glitch_us = 300.0\n", "pins.limit_glitch_us", "valid integer"),
    ],
)
def test_bad_values_name_file_key_and_rule(tmp_path: Path, text: str, key: str, fragment: str) -> None:
    problems = _problems(tmp_path, text)
    matching = [p for p in problems if f": {key}: " in p]
    assert matching, problems
    assert str(tmp_path / "raild.toml") in matching[0]
    assert fragment in matching[0], matching[0]


def test_several_problems_give_one_line_each(tmp_path: Path) -> None:
    problems = _problems(tmp_path, "[rail]\nbogus = 1\ntravel_mm = 0\n[pins]\nshutter = 20\n")
    assert len(problems) == 3
    assert all("\n" not in p for p in problems)


def test_not_toml_and_missing_file(tmp_path: Path) -> None:
    assert "not valid TOML" in _problems(tmp_path, "[rail\n")[0]
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path / "absent.toml")
    assert "cannot read" in info.value.problems[0]


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "raild", *args], capture_output=True, text=True, timeout=60, env=env)


def test_bad_config_exits_78_with_one_line_per_problem(tmp_path: Path) -> None:
    path = _write(tmp_path, "[rail]\nbogus = 1\n[pins]\nstep = 99\n")
    result = _cli("serve", "--sim", "--config", str(path), "--state-dir", str(tmp_path / "s"))
    assert result.returncode == EX_CONFIG
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 2, result.stderr
    assert all(line.startswith(str(path)) for line in lines)


def test_bad_flag_exits_78(tmp_path: Path) -> None:
    result = _cli("serve", "--port", "99999", "--state-dir", str(tmp_path))
    assert result.returncode == EX_CONFIG
    assert "port" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert _cli("serve", "--frobnicate").returncode == EX_CONFIG


def test_raild_config_env_is_used(tmp_path: Path) -> None:
    import os

    path = _write(tmp_path, "[pins]\nstep = 2\ndir = 2\n")
    env = {**os.environ, "RAILD_CONFIG": str(path)}
    result = _cli("token", "--state-dir", str(tmp_path / "s"), env=env)
    assert result.returncode == EX_CONFIG
    assert "pins.dir: pin 2 is already used by pins.step" in result.stderr


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('[rail]\ntravel_mm = "50"\n', "rail.travel_mm"),
        ('[rail]\nmicrosteps = "8"\n', "rail.microsteps"),
        ('[api]\nport = "8000"\n', "api.port"),
        ('[pins]\nenable_active_low = "true"\n', "pins.enable_active_low"),
    ],
)
def test_a_quoted_value_is_a_string_not_a_number_or_bool(tmp_path: Path, text: str, key: str) -> None:
    # Every key is typed alike: "50" in quotes is refused, not quietly converted.
    (line,) = _problems(tmp_path, text)
    assert key in line


def test_an_integer_is_still_a_valid_float(tmp_path: Path) -> None:
    assert load_config(_write(tmp_path, "[rail]\ntravel_mm = 50\n")).rail.travel_mm == 50.0
