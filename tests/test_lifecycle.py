"""`raild serve --sim` as systemd runs it: READY only once serving, watchdog, clean stop."""

from __future__ import annotations

import itertools
import os
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.daemon import daemon_env, serve_argv
from tests.support.waiting import wait_for

TOKEN = "lifecycle-test-token-0123456789"


def _health(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health", timeout=0.5) as r:
            return r.status == 200
    except OSError:
        return False


@pytest.fixture
def notify_socket(tmp_path: Path) -> Iterator[tuple[socket.socket, str]]:
    path = str(tmp_path / "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(0.2)
    yield sock, path
    sock.close()


def _start(tmp_path: Path, port: int, notify_path: str, watchdog_usec: int | None) -> subprocess.Popen[bytes]:
    env = daemon_env(TOKEN, {"NOTIFY_SOCKET": notify_path})
    env.pop("WATCHDOG_USEC", None)
    env.pop("WATCHDOG_PID", None)
    if watchdog_usec:
        env["WATCHDOG_USEC"] = str(watchdog_usec)
    return subprocess.Popen(
        serve_argv(port, tmp_path / "state"), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )


def _messages_until(
    sock: socket.socket, wanted: str, deadline_s: float, on_each: object = None
) -> list[tuple[float, str]]:
    got: list[tuple[float, str]] = []
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        try:
            data = sock.recv(4096).decode()
        except TimeoutError:
            continue
        got.append((time.monotonic(), data))
        if callable(on_each):
            on_each(data)
        if wanted in data:
            return got
    raise AssertionError(f"{wanted} not received; got {got}")


def test_ready_only_after_health_answers_then_watchdog_then_clean_stop(
    tmp_path: Path, port: int, notify_socket: tuple[socket.socket, str]
) -> None:
    sock, path = notify_socket
    proc = _start(tmp_path, port, path, watchdog_usec=400_000)
    try:
        health_when_ready: list[bool] = []

        def check(data: str) -> None:
            if "READY=1" in data:
                health_when_ready.append(_health(port))

        _messages_until(sock, "READY=1", 60, check)
        assert health_when_ready == [True], "READY=1 was sent before /api/v1/health answered"

        # WATCHDOG_USEC=0.4 s → a ping every 0.2 s from the event loop.
        pings = [t for t, m in _messages_until(sock, "WATCHDOG=1", 5) if "WATCHDOG=1" in m]
        for _ in range(3):
            pings += [t for t, m in _messages_until(sock, "WATCHDOG=1", 5) if "WATCHDOG=1" in m]
        assert len(pings) >= 4
        assert max(b - a for a, b in itertools.pairwise(pings)) < 0.4

        sent = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        _messages_until(sock, "STOPPING=1", 5)
        assert proc.wait(timeout=10) == 0
        assert time.monotonic() - sent < 5.0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    stderr = proc.stderr.read().decode() if proc.stderr else ""
    assert "lifecycle-test-token" not in stderr


def test_no_notify_socket_is_harmless(tmp_path: Path, port: int) -> None:
    env = {k: v for k, v in os.environ.items() if k != "NOTIFY_SOCKET"}
    proc = subprocess.Popen(
        serve_argv(port, tmp_path / "state"), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        wait_for(lambda: _health(port), 60, "/api/v1/health to answer", proc, every_s=0.1)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_port_in_use_fails_without_ready(tmp_path: Path, notify_socket: tuple[socket.socket, str]) -> None:
    sock, path = notify_socket
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = _start(tmp_path, port, path, watchdog_usec=None)
        try:
            assert proc.wait(timeout=60) != 0
        finally:
            if proc.poll() is None:
                proc.kill()
    messages = []
    while True:
        try:
            messages.append(sock.recv(4096).decode())
        except TimeoutError:
            break
    assert not any("READY=1" in m for m in messages)


def test_sigterm_with_an_event_stream_open_ends_the_stream_and_exits_cleanly(
    tmp_path: Path, port: int, notify_socket: tuple[socket.socket, str]
) -> None:
    sock, path = notify_socket
    proc = _start(tmp_path, port, path, watchdog_usec=None)
    client: socket.socket | None = None
    try:
        _messages_until(sock, "READY=1", 60)
        client = socket.create_connection(("127.0.0.1", port), timeout=30)
        client.sendall(
            b"GET /api/v1/events HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " + TOKEN.encode() + b"\r\n\r\n"
        )
        received = b""
        while b"event: status" not in received:
            chunk = client.recv(65536)
            assert chunk, f"stream closed before its first event: {received!r}"
            received += chunk
        sent = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        while chunk := client.recv(65536):
            received += chunk
        # The stream was ended by the daemon (the last chunk of a chunked response),
        # not cut when uvicorn's graceful time-out cancelled it.
        assert received.endswith(b"0\r\n\r\n"), received[-200:]
        assert proc.wait(timeout=10) == 0
        stopped_s = time.monotonic() - sent
    finally:
        if client is not None:
            client.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    stderr = proc.stderr.read().decode() if proc.stderr else ""
    assert "Traceback" not in stderr, stderr
    # uvicorn's graceful time-out is 2 s: a stream that held the stop up would take longer.
    assert stopped_s < 2.0, f"stop took {stopped_s:.2f} s"
