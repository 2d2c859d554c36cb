"""Where `raild serve` keeps its token and stacks."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from raild.cli import _load, _state_dir, build_parser
from raild.config import Config


def _args(sim: bool, state_dir: str | None = None) -> argparse.Namespace:
    return argparse.Namespace(sim=sim, state_dir=state_dir)


def _from_command_line(*argv: str) -> Path:
    args = build_parser().parse_args(list(argv))
    return _state_dir(_load(args), args)


def test_sim_without_a_state_dir_uses_a_per_user_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    # Even as root, where /var/lib/raild would be writable, a simulated rig stays out of it.
    assert _state_dir(Config(), _args(sim=True)) == tmp_path / "xdg" / "raild" / "sim"


def test_sim_honours_an_explicit_state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("RAILD_CONFIG", str(tmp_path / "absent.toml"))
    (tmp_path / "absent.toml").write_text("")
    assert _from_command_line("serve", "--sim", "--state-dir", str(tmp_path / "mine")) == tmp_path / "mine"


def test_sim_honours_a_state_dir_set_in_the_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    config = Config.model_validate({"daemon": {"state_dir": str(tmp_path / "configured")}})
    assert _state_dir(config, _args(sim=True)) == tmp_path / "configured"
