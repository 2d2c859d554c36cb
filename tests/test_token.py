"""API token: created once (0600), stable, overridable, never logged."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

from raild.paths import TOKEN_FILE, load_or_create_token, resolve_state_dir


def _token_cli(state_dir: Path, env_token: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "RAILD_API_TOKEN"}
    if env_token:
        env["RAILD_API_TOKEN"] = env_token
    return subprocess.run(
        [sys.executable, "-m", "raild", "token", "--state-dir", str(state_dir)],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )


def test_created_once_with_mode_0600_and_stable(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("RAILD_API_TOKEN", raising=False)
    first = load_or_create_token(tmp_path)
    mode = stat.S_IMODE((tmp_path / TOKEN_FILE).stat().st_mode)
    assert mode == 0o600
    assert len(first) >= 32
    assert load_or_create_token(tmp_path) == first


def test_cli_prints_token_and_a_pairing_url_never_the_token(tmp_path: Path) -> None:
    a = _token_cli(tmp_path)
    b = _token_cli(tmp_path)
    assert a.returncode == 0 and b.returncode == 0
    token, url = a.stdout.strip().splitlines()
    token_b, url_b = b.stdout.strip().splitlines()
    assert token_b == token, "the token is stable"
    assert url.startswith("http://") and "/#pair=" in url
    assert token not in url, "the token must never be in a URL"
    assert url != url_b, "each run gives a fresh single-use code"
    assert token not in a.stderr, "the token must not appear in the log"
    assert "once" in a.stderr and "10 minutes" in a.stderr


def test_env_override_wins(tmp_path: Path) -> None:
    _token_cli(tmp_path)
    result = _token_cli(tmp_path, env_token="from-env-123")
    assert result.stdout.splitlines()[0] == "from-env-123"
    assert (tmp_path / TOKEN_FILE).read_text().strip() != "from-env-123"


def test_unwritable_default_falls_back_and_says_so(tmp_path: Path, monkeypatch, caplog) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    blocker = tmp_path / "file"
    blocker.write_text("")
    chosen = resolve_state_dir(str(blocker / "sub"), explicit=False)
    assert chosen == tmp_path / "xdg" / "raild"
    assert any("per-user" in r.getMessage() for r in caplog.records)


def test_unwritable_explicit_dir_is_an_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = _token_cli(blocker / "sub")
    assert result.returncode == 78
    assert "not writable" in result.stderr
