"""A LAN device that holds a thousand idle or half-open connections must not starve
stop and e-stop. The daemon is `raild serve --sim` in its own process with a file
limit of 1024, as a small system gives it; the flood comes from other loopback
addresses (127.0.0.0/8 is all loopback on Linux) so the e-stop is "another client".
Also over the real socket: X-Forwarded-For is not believed, a foreign Host gets 421."""

from __future__ import annotations

import contextlib
import resource
import select
import socket
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.faults.harness import AUTH, TOKEN, Daemon, merged

pytestmark = [pytest.mark.timeout(180)]
FLOOD = 1100
FILE_LIMIT = 1024
HEADER_TIMEOUT_S = 2.0
# `python -c` in place of `-m raild`: the same command line under a file limit.
LIMITED_LAUNCHER = [
    "-c",
    "import resource, runpy; "
    f"resource.setrlimit(resource.RLIMIT_NOFILE, ({FILE_LIMIT}, {FILE_LIMIT})); "
    "runpy.run_module('raild', run_name='__main__', alter_sys=True)",
]
HALF_HEAD = b"GET /api/v1/status HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer "


@contextlib.contextmanager
def own_file_limit(wanted: int) -> Iterator[None]:
    """This test process must hold the flood's sockets itself."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < wanted:
        pytest.skip(f"the test needs {wanted} open files; the hard limit is {hard}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, wanted), hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    daemon = Daemon(
        tmp_path_factory.mktemp("flood"),
        config=merged({"api": {"header_timeout_s": HEADER_TIMEOUT_S, "login_attempts_per_minute": 3}}),
        launcher=LIMITED_LAUNCHER,
    )
    try:
        daemon.start()
        yield daemon
    finally:
        daemon.stop()


def open_flood(port: int, sources: list[str], count: int) -> list[socket.socket]:
    """`count` connections spread over `sources`; every other one sends half a request head."""
    socks: list[socket.socket] = []
    for i in range(count):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        socks.append(s)
        s.bind((sources[i % len(sources)], 0))
        s.settimeout(5)
        try:
            s.connect(("127.0.0.1", port))
            if i % 2:
                s.send(HALF_HEAD)
        except OSError:
            pass  # already closed by the daemon: that is the point
    return socks


def closed(s: socket.socket) -> bool:
    try:
        s.setblocking(False)
        return s.recv(4096) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True  # reset


def wait_all_closed(socks: list[socket.socket], timeout_s: float) -> float:
    """Seconds until the daemon closed every one of them; fails at `timeout_s`."""
    start = time.monotonic()
    pending = {s.fileno(): s for s in socks}
    poller = select.poll()
    for fd in pending:
        poller.register(fd, select.POLLIN | select.POLLHUP | select.POLLERR)
    while pending:
        left_s = timeout_s - (time.monotonic() - start)
        assert left_s > 0, f"{len(pending)} of {len(socks)} flood connections still open after {timeout_s:g} s"
        for fd, _ in poller.poll(left_s * 1000):
            if fd in pending and closed(pending[fd]):
                poller.unregister(fd)
                del pending[fd]
    return time.monotonic() - start


def timed_estop(daemon: Daemon) -> tuple[int, float]:
    start = time.monotonic()
    with httpx.Client(base_url=daemon.base_url, headers=AUTH, timeout=10) as client:
        reply = client.post("/api/v1/motion/estop")
    return reply.status_code, time.monotonic() - start


def reset(daemon: Daemon) -> None:
    with httpx.Client(base_url=daemon.base_url, headers=AUTH, timeout=10) as client:
        assert client.post("/api/v1/motion/reset").status_code in (200, 202, 204)


@pytest.mark.parametrize(
    "sources",
    [["127.0.0.2"], [f"127.0.1.{i}" for i in range(1, 51)]],
    ids=["one-device", "fifty-addresses"],
)
def test_estop_answers_through_a_flood_of_idle_connections(limited: Daemon, sources: list[str]) -> None:
    with own_file_limit(FLOOD + 200):
        socks = open_flood(limited.port, sources, FLOOD)
        try:
            status, took_s = timed_estop(limited)
            assert status == 200, status
            assert took_s < 1.5, f"e-stop took {took_s:.2f} s under the flood"
            # Stop too: another client, another connection.
            with httpx.Client(base_url=limited.base_url, headers=AUTH, timeout=10) as client:
                start = time.monotonic()
                assert client.post("/api/v1/motion/stop").status_code in (200, 202)
                assert time.monotonic() - start < 1.5
            # The excess is closed at once, the rest at the head timeout, not held.
            wait_all_closed(socks, timeout_s=15)
        finally:
            for s in socks:
                s.close()
    reset(limited)
    assert limited.proc is not None and limited.proc.poll() is None, "the daemon must survive the flood"
    if len(sources) == 1:
        assert "too many connections from one client" in limited.log()


def test_a_half_sent_head_is_closed_after_the_timeout_not_before(limited: Daemon) -> None:
    with socket.create_connection(("127.0.0.1", limited.port), timeout=5) as s:
        start = time.monotonic()
        s.send(HALF_HEAD)
        time.sleep(0.2)
        s.send(b"x")  # trickling bytes does not extend the deadline
        took_s = wait_all_closed([s], timeout_s=HEADER_TIMEOUT_S + 5)
        assert HEADER_TIMEOUT_S - 0.5 <= (time.monotonic() - start) <= HEADER_TIMEOUT_S + 3, took_s


def test_x_forwarded_for_is_not_believed(limited: Daemon) -> None:
    """Each wrong login claims to come from another address; the limit still counts them."""
    codes = []
    with httpx.Client(base_url=limited.base_url, timeout=10) as client:
        for i in range(5):
            reply = client.post(
                "/api/v1/session",
                json={"token": "wrong-token-0123456789abcdef"},
                headers={
                    "X-Forwarded-For": f"198.51.100.{i}",
                    "X-Real-IP": f"198.51.100.{i}",
                    "Forwarded": "for=1.2.3.4",
                },
            )
            codes.append(reply.status_code)
    assert codes[:3] == [401, 401, 401] and 429 in codes[3:], codes


def test_a_foreign_host_is_refused_over_the_socket(limited: Daemon) -> None:
    with httpx.Client(base_url=limited.base_url, headers=AUTH, timeout=10) as client:
        reply = client.get("/api/v1/status", headers={"Host": "rebind.example:8000"})
        assert reply.status_code == 421
        assert "allowed_hosts" in reply.json()["detail"]
        assert client.get("/api/v1/status", headers={"Host": f"localhost:{limited.port}"}).status_code == 200


def raw_status(port: int, extra_headers: bytes) -> int:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(
            b"GET /api/v1/status HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" + extra_headers + b"\r\n"
        )
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    return int(answer.split(b" ", 2)[1])


def test_crafted_credentials_over_the_socket_are_401(limited: Daemon) -> None:
    assert raw_status(limited.port, f"Authorization: Bearer {TOKEN}\r\n".encode()) == 200
    for headers in (
        "Cookie: raild_session=é\r\n".encode(),
        b"Cookie: raild_session=\xff\xfe.\x80.\x81\r\n",
        "Cookie: raild_session=٩٩٩٩٩٩٩٩٩٩.n.s\r\n".encode(),
        f"Authorization: Bearer {TOKEN}\r\nAuthorization: Bearer wrong\r\n".encode(),
        f"X-Api-Key: wrong\r\nX-Api-Key: {TOKEN}\r\n".encode(),
        f"Authorization: Bearer {TOKEN}é\r\n".encode(),
    ):
        assert raw_status(limited.port, headers) == 401, headers
