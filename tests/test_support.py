"""The test toolkit (tests/support) does what the suites lean on: waits end on a
deadline or a dead process with a message, ports are free, configs load, and a
daemon started with no token hands out the one it made."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import threading
import time
import tomllib
from pathlib import Path
from typing import Any

import httpx
import pytest

from raild.config import Config, load_config
from tests.support.configs import QUICK_SIM, config_toml, merged, toml_text
from tests.support.daemon import DaemonProcess
from tests.support.ports import free_port, free_port_pair
from tests.support.rig import resume_if_the_host_fell_behind
from tests.support.waiting import wait_event, wait_for, wait_until


def test_wait_for_returns_the_first_truthy_answer() -> None:
    answers = iter([None, False, 0, {"state": "idle"}])
    assert wait_for(lambda: next(answers), 5, "an answer", every_s=0.001) == {"state": "idle"}


def test_wait_for_fails_on_the_deadline_naming_what_it_waited_for() -> None:
    start = time.monotonic()
    with pytest.raises(AssertionError, match=r"timed out after 0\.2 s waiting for the moon"):
        wait_for(lambda: False, 0.2, "the moon")
    assert time.monotonic() - start < 5


def test_wait_for_fails_at_once_when_the_process_dies() -> None:
    proc = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
    proc.wait(30)
    start = time.monotonic()
    with pytest.raises(RuntimeError, match=r"exited \(3\) while waiting for health"):
        wait_for(lambda: False, 60, "health", proc, error=RuntimeError)
    assert time.monotonic() - start < 5


def test_wait_event_returns_when_set_and_fails_when_not() -> None:
    event = threading.Event()
    threading.Timer(0.05, event.set).start()
    wait_event(event, 10, "the timer")
    with pytest.raises(AssertionError, match="waiting for nobody"):
        wait_event(threading.Event(), 0.05, "nobody")


async def test_wait_until_polls_on_the_loop() -> None:
    seen: list[int] = []
    assert await wait_until(lambda: seen.append(1) or len(seen) >= 3, 5, "three polls", every_s=0.001)
    with pytest.raises(AssertionError, match="never"):
        await wait_until(lambda: None, 0.05, "never")


def test_ports_are_free_and_a_pair_is_adjacent() -> None:
    for port in (free_port(), free_port_pair()):
        with socket.socket() as s:
            s.bind(("127.0.0.1", port))
    base = free_port_pair()
    with socket.socket() as a, socket.socket() as b:
        a.bind(("127.0.0.1", base))
        b.bind(("127.0.0.1", base + 1))


def test_configs_write_toml_raild_loads(tmp_path: Path) -> None:
    sections = merged(QUICK_SIM, {"camera": {"settle_ms": 5}, "api": {"port": 9}})
    assert QUICK_SIM["camera"]["settle_ms"] == 20  # the base is copied, never changed
    assert tomllib.loads(toml_text(sections)) == sections
    path = tmp_path / "raild.toml"
    path.write_text(toml_text(sections))
    assert load_config(str(path)).camera.settle_ms == 5
    whole = Config().with_overrides(rail={"travel_mm": 42.0})
    path.write_text(config_toml(whole))
    assert load_config(str(path)) == whole


@pytest.mark.slow
def test_a_daemon_without_a_given_token_is_driven_with_the_one_it_made(tmp_path: Path) -> None:
    daemon = DaemonProcess(tmp_path, token=None)
    with daemon:
        token = daemon.read_token()
        assert len(token) >= 22 and token == (tmp_path / "state" / "api_token").read_text().strip()
        assert daemon.status()["homed"] is False  # the client authenticates with it
        assert daemon.signal(signal.SIGTERM) == 0
    assert daemon.proc is None and "--- start 1:" in daemon.log()


def _fake_rig(jobs: list[dict[str, Any]], calls: list[str]) -> httpx.Client:
    """An API double: a stack list, homing that ends homed at once, and resume."""

    def answer(request: httpx.Request) -> httpx.Response:
        calls.append(f"{request.method} {request.url.path}")
        if request.url.path == "/api/v1/stacks":
            return httpx.Response(200, json=jobs)
        if request.url.path == "/api/v1/motion/home":
            return httpx.Response(202, json={})
        if request.url.path == "/api/v1/status":
            return httpx.Response(200, json={"state": "idle", "homed": True})
        if request.url.path.endswith("/resume"):
            return httpx.Response(200, json={})
        return httpx.Response(404)

    return httpx.Client(base_url="http://rig/api/v1", transport=httpx.MockTransport(answer))


def test_a_stack_the_host_gave_up_is_homed_and_resumed_and_no_other_is() -> None:
    from raild.stacks.manager import INTERRUPTED as DAEMON_STOPPED
    from raild.stacks.runner import HOST_BEHIND

    calls: list[str] = []
    others = [
        {"id": "a", "state": "interrupted", "error": DAEMON_STOPPED},  # a crash is the test's own business
        {"id": "b", "state": "completed", "error": None},
    ]
    assert not resume_if_the_host_fell_behind(_fake_rig(others, calls))
    assert calls == ["GET /api/v1/stacks"]

    calls.clear()
    given_up = [*others, {"id": "c", "state": "interrupted", "error": HOST_BEHIND}]
    assert resume_if_the_host_fell_behind(_fake_rig(given_up, calls))
    assert calls == [
        "GET /api/v1/stacks",
        "POST /api/v1/motion/home",
        "GET /api/v1/status",
        "POST /api/v1/stacks/c/resume",
    ]
