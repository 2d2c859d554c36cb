"""Storms of bad input against every command that could move the rail or start work:
NaN and infinities, huge numbers, wrong types, unknown fields, malformed and non-UTF-8
JSON, oversized bodies (declared and chunked), hostile ids. The daemon is `raild serve
--sim`'s own, on a real socket; the virtual rail's true position is read beside it."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.faults.harness import TOKEN, wait_for
from tests.faults.inproc import Served, home, served_daemon

pytestmark = [pytest.mark.timeout(180)]
CLIENT_ERRORS = {400, 401, 403, 404, 405, 409, 413, 415, 422}
BAD_NUMBERS: list[Any] = [
    float("nan"),
    float("inf"),
    -float("inf"),
    1e308,
    -1e308,
    10**30,
    -(10**30),
    1e-320,
    "5",
    "NaN",
    True,
    [],
    {},
    [1.0],
    {"um": 1},
]
REQUIRED = {"to_um", "start_um", "end_um"}  # null is "not given" for the optional ones
MOVING_ROUTES = ["/motion/move", "/motion/motor", "/stacks", "/motion/home", "/motion/zero", "/motion/reset"]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    # The motor stays on while idle, so that "nothing changed" can include the driver.
    with served_daemon(tmp_path_factory.mktemp("bad-input"), {"rail": {"idle_disable_s": 0}}) as s, s.client() as api:
        home(api)
        yield s


@pytest.fixture
def still(served: Served) -> Iterator[httpx.Client]:
    """Yields a client; afterwards the rail must be exactly where it was and unharmed."""
    with served.client() as api:
        before = api.get("/status").json()
        true_before = served.true_position_steps
        yield api
    # A fresh connection: after a 500, uvicorn closes the one it failed on.
    with served.client() as api:
        # A refused command may still be unwinding (a move that failed while loading): let
        # the rail come to rest, then it must be exactly where it was.
        after = wait_for(
            lambda: (st := api.get("/status").json())["state"] == before["state"] and st, 5, "the rail to come to rest"
        )
        assert served.true_position_steps == true_before, "the rail moved"
        for key in ("state", "position_steps", "homed", "motor_enabled", "position_known"):
            assert after[key] == before[key], (key, before[key], after[key])
        assert all(s["state"] != "running" for s in api.get("/stacks").json())


def raw_json(value: Any) -> bytes:
    # Python's json writes NaN/Infinity literals: exactly what a sloppy client sends.
    return json.dumps(value, allow_nan=True).encode()


def post(api: httpx.Client, path: str, body: bytes, **headers: str) -> httpx.Response:
    return api.post(path, content=body, headers={"Content-Type": "application/json", **headers})


def assert_refused(reply: httpx.Response, what: object) -> None:
    assert reply.status_code in CLIENT_ERRORS, (what, reply.status_code, reply.text)
    assert reply.headers["content-type"].startswith("application/problem+json"), (what, reply.text)
    assert reply.json()["detail"], what


def test_bad_numbers_everywhere(still: httpx.Client) -> None:
    """Injected: every bad number in every numeric field of move, motor and stacks, plus
    unknown fields and wrong shapes. Must hold: a 4xx problem+json each, never a 500; the
    rail does not move and no stack starts."""
    fields = {
        "/motion/move": ["to_um", "by_um", "speed_um_s"],
        "/stacks": ["start_um", "end_um", "step_um", "frames", "settle_ms", "shots_per_position"],
    }
    valid = {"/motion/move": {"to_um": 5000.0}, "/stacks": {"start_um": 2500, "end_um": 2600, "frames": 3}}
    for path, names in fields.items():
        for name in names:
            for bad in BAD_NUMBERS + ([None] if name in REQUIRED else []):
                if name == "speed_um_s" and bad == 1e-320:
                    continue  # see test_a_vanishing_speed_is_refused
                body = {**valid[path], name: bad}
                if path == "/motion/move" and name == "by_um":
                    body.pop("to_um")
                reply = post(still, path, raw_json(body))
                if name == "by_um" and bad == 1e-320:
                    # A valid (subnormal) distance that rounds to no step: refused, or
                    # accepted as a move of zero steps; `still` checks the rail stayed put.
                    assert reply.status_code in CLIENT_ERRORS | {202}, (path, name, reply.text)
                    continue
                assert_refused(reply, (path, name, bad))
        for extra in ({"bogus": 1}, {"to_um": 1, "by_um": 1}, [], "x", 7, None, {"wait": "yes"}):
            body = {**valid[path], **extra} if isinstance(extra, dict) else extra
            if path == "/motion/move" or isinstance(extra, dict) is False or "bogus" in extra:
                assert_refused(post(still, path, raw_json(body)), (path, extra))
    for bad in [b for b in BAD_NUMBERS if b is not True] + [None, "true", 1, 0]:
        assert_refused(post(still, "/motion/motor", raw_json({"enabled": bad})), ("motor", bad))


def test_malformed_bodies(still: httpx.Client) -> None:
    """Injected: truncated and invalid JSON, non-UTF-8 bytes, a BOM, an empty body, a
    form-encoded body, a deeply nested document. Must hold: 4xx each, never 500; no motion."""
    bodies = [
        b"{",
        b'{"to_um": }',
        b'{"to_um": 1,,}',
        b"\xff\xfe\x00garbage",
        b"\xef\xbb\xbf{}",
        b"",
        b"null",
        b'{"to_um": 1e999999}',
        b"[" * 5000 + b"]" * 5000,
        b'{"to_um": 00012}',
        b'{"to_um": 1}{"to_um": 2}',
    ]
    for path in MOVING_ROUTES[:3]:
        for body in bodies:
            assert_refused(post(still, path, body), (path, body[:20]))
        form = still.post(path, content=b"to_um=5000", headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert_refused(form, (path, "form"))


def test_a_lone_surrogate_in_a_string_is_refused(still: httpx.Client) -> None:
    """Injected: `{"to_um": "\\ud800"}` (valid JSON, a lone surrogate escape) to move and stacks.
    Must hold: a 4xx problem document, never a 500."""
    for path in ("/motion/move", "/stacks"):
        assert_refused(post(still, path, b'{"to_um": "\\ud800", "start_um": "\\udfff"}'), path)


def test_oversized_bodies_on_a_raw_socket(served: Served, still: httpx.Client) -> None:
    """Injected: a body over `api.max_body_bytes`, declared by Content-Length and sent
    chunked without one, and a Content-Length far larger than what follows.
    Must hold: 413 (or 400) problem+json, never 500; the daemon keeps answering."""
    limit = served.daemon.config.api.max_body_bytes
    big = b'{"to_um": 1000, "pad": "' + b"x" * (limit + 10) + b'"}'
    head = (
        f"POST /api/v1/motion/move HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {TOKEN}\r\n"
        "Content-Type: application/json\r\n"
    )
    parts = [big[i : i + 4096] for i in range(0, len(big), 4096)]
    chunked = b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in parts)
    requests = [
        head.encode() + f"Content-Length: {len(big)}\r\n\r\n".encode() + big,
        head.encode() + b"Transfer-Encoding: chunked\r\n\r\n" + chunked + b"0\r\n\r\n",
        head.encode() + b"Content-Length: 999999999999\r\n\r\n" + b'{"to_um": 1000}',
    ]
    for raw in requests:
        with socket.create_connection(("127.0.0.1", served.port), timeout=10) as conn:
            try:
                conn.sendall(raw)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the server may answer and close before reading it all: that is fine
            conn.shutdown(socket.SHUT_WR)
            answer = b""
            while chunk := conn.recv(65536):
                answer += chunk
        status = int(answer.split(b" ", 2)[1])
        assert status in (400, 413), answer[:300]
    assert still.get("/health").status_code == 200


def test_hostile_ids_and_queries(still: httpx.Client) -> None:
    """Injected: traversal and junk in stack ids, frame indexes and optics queries.
    Must hold: 4xx each, never 500; nothing outside the state dir is reached."""
    ids = ["..", "..%2f..%2fetc", "%00", "x" * 5000, "20261125-000000-000ab", "../../etc/passwd", "a b", "é"]
    for stack_id in ids:
        for verb, tail in (
            ("GET", ""),
            ("POST", "/resume"),
            ("POST", "/cancel"),
            ("DELETE", ""),
            ("GET", "/frames/1"),
            ("GET", "/frames/-1"),
            ("GET", "/archive"),
        ):
            reply = still.request(verb, f"/stacks/{stack_id}{tail}")
            assert reply.status_code in CLIENT_ERRORS, (verb, stack_id, tail, reply.status_code)
    for query in (
        "magnification=nan&aperture=4",
        "magnification=1e400&aperture=4",
        "magnification=-1&aperture=4",
        "magnification=2&aperture=0",
        "magnification=x&aperture=y",
        "aperture=4",
        "magnification=2&aperture=4&overlap=1",
    ):
        reply = still.get(f"/optics/step?{query}")
        assert reply.status_code in CLIENT_ERRORS, (query, reply.status_code, reply.text)


json_values = st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=True, allow_infinity=True) | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    path=st.sampled_from(["/motion/move", "/stacks", "/motion/motor"]),
    body=st.dictionaries(
        st.sampled_from(
            ["to_um", "by_um", "wait", "start_um", "end_um", "step_um", "frames", "enabled", "settle_ms", "x"]
        ),
        json_values,
        max_size=4,
    ),
)
def test_generated_bodies_never_500_and_never_move_wrongly(served: Served, path: str, body: dict[str, Any]) -> None:
    """Injected: generated JSON objects of mixed valid keys and arbitrary values.
    Must hold: never a 5xx; whatever is refused leaves the rail exactly where it was."""
    with served.client() as api:
        true_before = served.true_position_steps
        reply = post(api, path, raw_json(body))
        assert reply.status_code < 500, (path, body, reply.text)
        if reply.status_code >= 400:
            assert served.true_position_steps == true_before, (path, body)
            return
        # Accepted: it was a valid command. Stop it (which also cancels a stack) so that
        # examples stay independent, and leave the motor on as the fixture found it.
        assert api.post("/motion/stop").status_code == 200
        api.post("/motion/motor", json={"enabled": True})
        wait_for(
            lambda: (
                api.get("/status").json()["state"] == "idle"
                and not any(
                    s["state"] in ("running", "queued", "pausing", "cancelling") for s in api.get("/stacks").json()
                )
            ),
            60,
            "quiet",
        )


def test_a_vanishing_speed_is_refused(still: httpx.Client) -> None:
    """Injected: `speed_um_s` of 1e-300 and 1e-320 (positive, so past the API's `gt=0`).
    Must hold: 422 with a reason, like the 1e-9 that is refused as too slow for pigpio."""
    for speed in (1e-300, 1e-320):
        reply = post(still, "/motion/move", raw_json({"to_um": 5000.0, "speed_um_s": speed}))
        assert_refused(reply, speed)


def test_a_crawling_move_can_be_stopped(served: Served) -> None:
    """Injected: a move at 0.01 µm/s (accepted by the API), then `POST /motion/stop`.
    Must hold: the move is refused as too slow, or the stop answers and the rail is idle."""
    with served.client() as api:
        reply = api.post("/motion/move", json={"to_um": 6000.0, "speed_um_s": 0.01})
        if reply.status_code == 422:
            return
        assert reply.status_code == 202, reply.text
        try:
            stopped = api.post("/motion/stop", timeout=5)
        except httpx.ReadTimeout:
            api.post("/motion/estop", timeout=5)  # leave the module's rail usable
            api.post("/motion/reset", timeout=5)
            api.post("/motion/home", timeout=5)
            wait_for(lambda: api.get("/status").json()["homed"], 60, "homing after the e-stop")
            raise
        assert stopped.status_code == 200 and stopped.json()["state"] == "idle"
