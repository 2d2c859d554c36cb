"""Pairing codes (single use, expiry, shared between processes) and `raild token`'s URL and QR code."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from raild.config import validate_data
from raild.listen import LISTEN_FILE, record_listen, running_listen
from raild.pairing import PAIR_FILE, PAIR_LIFETIME_S, PairingCodes
from raild.pairlink import login_url, phone_host
from raild.paths import MIN_TOKEN_CHARS, weak_token_problem


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_a_code_works_once(tmp_path: Path) -> None:
    codes = PairingCodes(tmp_path)
    code = codes.issue()
    assert PairingCodes(tmp_path).redeem(code) is True
    assert PairingCodes(tmp_path).redeem(code) is False
    assert codes.redeem("") is False and codes.redeem("not-a-code") is False


def test_a_code_expires_after_ten_minutes(tmp_path: Path) -> None:
    clock = Clock()
    codes = PairingCodes(tmp_path, clock=clock)
    early, late = codes.issue(), codes.issue()
    clock.now += PAIR_LIFETIME_S - 1
    assert codes.redeem(early) is True
    clock.now += 2
    assert codes.redeem(late) is False


def test_the_file_holds_hashes_only_and_is_private(tmp_path: Path) -> None:
    code = PairingCodes(tmp_path).issue()
    path = tmp_path / PAIR_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text()
    assert code not in text
    assert len(json.loads(text)) == 1


def test_a_damaged_file_costs_the_codes_not_the_daemon(tmp_path: Path) -> None:
    (tmp_path / PAIR_FILE).write_text("{not json")
    codes = PairingCodes(tmp_path)
    assert codes.redeem("anything") is False
    code = codes.issue()
    assert codes.redeem(code) is True


def test_codes_from_another_process_redeem_here(tmp_path: Path) -> None:
    script = (
        "import sys; from pathlib import Path; from raild.pairing import PairingCodes; "
        "print(PairingCodes(Path(sys.argv[1])).issue())"
    )
    codes = [
        subprocess.run(
            [sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True, check=True
        ).stdout.strip()
        for _ in range(3)
    ]
    store = PairingCodes(tmp_path)
    assert [store.redeem(c) for c in codes] == [True, True, True]
    assert [store.redeem(c) for c in codes] == [False, False, False]


def test_login_url_uses_the_running_daemons_port(tmp_path: Path) -> None:
    config = validate_data({"api": {"host": "127.0.0.1", "port": 8000}}, "test")
    assert login_url(config, tmp_path, None, None, "C") == "http://127.0.0.1:8000/#pair=C"
    record_listen(tmp_path, "127.0.0.1", 9123)  # this process is alive: a "running daemon"
    assert running_listen(tmp_path) is not None
    assert login_url(config, tmp_path, None, None, "C") == "http://127.0.0.1:9123/#pair=C"
    assert login_url(config, tmp_path, "rig.lan", 81, "C") == "http://rig.lan:81/#pair=C"


def test_a_dead_daemons_port_is_ignored(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    (tmp_path / LISTEN_FILE).write_text(json.dumps({"host": "0.0.0.0", "port": 9999, "pid": int(proc.stdout)}))
    assert running_listen(tmp_path) is None


def test_phone_host_for_a_wildcard_is_reachable_not_loopback() -> None:
    host = phone_host("0.0.0.0", "raild")
    assert host not in ("0.0.0.0", "127.0.0.1", "localhost")
    assert phone_host("192.168.1.5", "raild") == "192.168.1.5"
    assert phone_host("fe80::1", "raild") == "[fe80::1]"


def test_cli_draws_a_qr_code_when_asked(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "RAILD_API_TOKEN"}
    result = subprocess.run(
        [sys.executable, "-m", "raild", "token", "--state-dir", str(tmp_path), "--qr", "--url-port", "8123"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert ":8123/#pair=" in lines[1]
    # segno's compact terminal output: half-block characters, many rows.
    assert sum(1 for line in lines[2:] if any(c in line for c in "▀▄█")) >= 10
    code = lines[1].rsplit("#pair=", 1)[1]
    assert PairingCodes(tmp_path).redeem(code) is True


@pytest.mark.parametrize("token", ["a", "x" * (MIN_TOKEN_CHARS - 1)])
def test_short_tokens_are_named_and_refused(token: str) -> None:
    problem = weak_token_problem(token)
    assert problem and f"at least {MIN_TOKEN_CHARS}" in problem


def test_good_tokens_pass_and_odd_ones_do_not() -> None:
    assert weak_token_problem("x" * MIN_TOKEN_CHARS) is None
    assert weak_token_problem("x" * 30 + " y") is not None
    assert weak_token_problem("x" * 30 + "é") is not None


def test_serve_refuses_a_short_env_token_at_start_up(tmp_path: Path) -> None:
    env = {**os.environ, "RAILD_API_TOKEN": "a"}
    result = subprocess.run(
        [sys.executable, "-m", "raild", "serve", "--sim", "--state-dir", str(tmp_path), "--port", "1"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert result.returncode == 78
    assert "RAILD_API_TOKEN" in result.stderr and f"at least {MIN_TOKEN_CHARS}" in result.stderr
