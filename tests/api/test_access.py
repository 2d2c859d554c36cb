"""Access: pairing codes, the Host allow-list, security headers, crafted cookies,
repeated credential headers, and logouts that survive a restart."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import httpx
import pytest

from raild.api.app import create_app
from raild.api.hosts import allowed_host_names, host_allowed
from raild.config import validate_data
from raild.pairing import PairingCodes

from .helpers import AUTH, TOKEN, Api, home, running_api, sim_config


def _client(api: Api, host: str = "localhost") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=api.app, client=("203.0.113.9", 40000))
    return httpx.AsyncClient(transport=transport, base_url=f"http://{host}")


# ---- pairing ---------------------------------------------------------------------------


async def test_a_pairing_code_logs_in_once(api: Api) -> None:
    code = PairingCodes(api.state_dir).issue()
    r = await api.client.post("/api/v1/session", json={"pair": code})
    assert r.status_code == 200, r.text
    assert "raild_session" in r.cookies
    assert (await api.client.get("/api/v1/status")).status_code == 200
    async with _client(api) as other:
        again = await other.post("/api/v1/session", json={"pair": code})
        assert again.status_code == 401
        assert "raild token" in again.json()["detail"]


async def test_an_expired_or_unknown_code_is_refused_and_counted(tmp_path: Path) -> None:
    config = sim_config(api={"login_attempts_per_minute": 2})
    async with running_api(tmp_path, config) as api:
        expired = PairingCodes(api.state_dir).issue(lifetime_s=-1)
        assert (await api.client.post("/api/v1/session", json={"pair": expired})).status_code == 401
        assert (await api.client.post("/api/v1/session", json={"pair": "guess"})).status_code == 401
        # Guessing codes is limited like guessing tokens.
        fresh = PairingCodes(api.state_dir).issue()
        assert (await api.client.post("/api/v1/session", json={"pair": fresh})).status_code == 429


@pytest.mark.parametrize("body", [{}, {"token": TOKEN, "pair": "x"}, {"pair": ""}, {"pair": 5}])
async def test_login_needs_exactly_one_credential(api: Api, body: dict[str, object]) -> None:
    r = await api.client.post("/api/v1/session", json=body)
    assert r.status_code == 422, r.text


async def test_a_logout_survives_a_restart(api: Api) -> None:
    assert (await api.client.post("/api/v1/session", json={"token": TOKEN})).status_code == 200
    cookie = api.client.cookies["raild_session"]
    r = await api.client.delete("/api/v1/session", headers={"X-Requested-With": "raild"})
    assert r.status_code == 204
    # A new app on the same state dir is a restarted daemon: the cookie stays dead.
    restarted = create_app(api.daemon)
    transport = httpx.ASGITransport(app=restarted, client=("203.0.113.7", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
        r = await client.get("/api/v1/status", headers={"Cookie": f"raild_session={cookie}"})
        assert r.status_code == 401
        assert (await client.get("/api/v1/session", headers={"Cookie": f"raild_session={cookie}"})).json() == {
            "authenticated": False
        }


async def test_sessions_last_a_week_not_a_month(api: Api) -> None:
    r = await api.client.post("/api/v1/session", json={"token": TOKEN})
    max_age = int(r.headers["set-cookie"].lower().split("max-age=")[1].split(";")[0])
    assert 24 * 3600 <= max_age <= 7 * 24 * 3600


# ---- crafted credentials ---------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "é".encode(),
        "٩٩٩٩٩٩٩٩٩٩.x.y".encode(),
        b"\xff\xfe.\x80.\x81",
        "9999999999.nonce.é".encode(),
        b"9999999999.nonce." + b"a" * 64,
        b'"quoted"',
        b"",
    ],
)
async def test_crafted_cookies_are_401_never_500(api: Api, value: bytes) -> None:
    for path in ("/api/v1/status", "/api/v1/session"):
        r = await api.client.get(path, headers=[(b"cookie", b"raild_session=" + value)])
        assert r.status_code in ((401,) if path.endswith("status") else (200,)), (path, value, r.text)
        if path.endswith("session"):
            assert r.json() == {"authenticated": False}


async def test_non_ascii_tokens_in_headers_are_401(api: Api) -> None:
    for header in (b"authorization", b"x-api-key"):
        value = (b"Bearer " if header == b"authorization" else b"") + TOKEN.encode() + "é".encode()
        r = await api.client.get("/api/v1/status", headers=[(header, value)])
        assert r.status_code == 401


@pytest.mark.parametrize(
    "headers",
    [
        [(b"authorization", f"Bearer {TOKEN}".encode()), (b"authorization", b"Bearer wrong")],
        [(b"authorization", b"Bearer wrong"), (b"authorization", f"Bearer {TOKEN}".encode())],
        [(b"x-api-key", TOKEN.encode()), (b"x-api-key", b"wrong")],
        [(b"x-api-key", b"wrong"), (b"x-api-key", TOKEN.encode())],
    ],
    ids=["auth-right-first", "auth-wrong-first", "key-right-first", "key-wrong-first"],
)
async def test_every_copy_of_a_repeated_credential_header_is_checked(
    api: Api, headers: list[tuple[bytes, bytes]]
) -> None:
    r = await api.client.get("/api/v1/status", headers=headers)
    assert r.status_code == 401


async def test_a_forged_session_cookie_beside_a_good_one_is_refused(api: Api) -> None:
    assert (await api.client.post("/api/v1/session", json={"token": TOKEN})).status_code == 200
    good = api.client.cookies["raild_session"]
    api.client.cookies.clear()
    assert (await api.client.get("/api/v1/status", headers={"Cookie": f"raild_session={good}"})).status_code == 200
    for headers in (
        [(b"cookie", f"raild_session={good}; raild_session=forged".encode())],
        [(b"cookie", f"raild_session=forged; raild_session={good}".encode())],
        [(b"cookie", f"raild_session={good}".encode()), (b"cookie", b"raild_session=forged")],
    ):
        r = await api.client.get("/api/v1/status", headers=headers)
        assert r.status_code == 401, headers


# ---- Host allow-list -------------------------------------------------------------------


async def test_a_foreign_host_gets_a_421_saying_how_to_allow_it(api: Api) -> None:
    for path in ("/api/v1/health", "/api/v1/status", "/", "/docs"):
        r = await api.client.get(path, headers={**AUTH, "Host": "attacker.example"})
        assert r.status_code == 421, path
        assert r.headers["content-type"] == "application/problem+json"
        detail = r.json()["detail"]
        assert "attacker.example" in detail and "allowed_hosts" in detail
        assert r.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize(
    "host",
    [
        "localhost",
        "localhost:8000",
        "LOCALHOST.",
        "127.0.0.1:8000",
        "192.168.4.20",
        "[::1]:8000",
        "[fe80::1]",
        "raild.local",
    ],
)
async def test_our_own_names_and_ip_literals_are_answered(api: Api, host: str) -> None:
    r = await api.client.get("/api/v1/health", headers={"Host": host})
    assert r.status_code == 200, host


async def test_machine_name_and_configured_names(tmp_path: Path) -> None:
    config = sim_config(api={"allowed_hosts": ["rig.example.lan"]}, daemon={"name": "bench"})
    machine = socket.gethostname()
    async with running_api(tmp_path, config) as api:
        for host in ("rig.example.lan", "bench.local", machine, f"{machine.split('.')[0]}.local"):
            assert (await api.client.get("/api/v1/health", headers={"Host": host})).status_code == 200, host
        for host in ("raild.local", "rig.example.lan.evil.example", "evil.example"):
            assert (await api.client.get("/api/v1/health", headers={"Host": host})).status_code == 421, host


def test_host_names_are_compared_as_names() -> None:
    config = validate_data({"daemon": {"name": "rig"}}, "test")
    allowed = allowed_host_names(config, machine_name="pi4.home.arpa")
    assert {"localhost", "rig.local", "pi4", "pi4.local", "pi4.home.arpa"} <= allowed
    assert host_allowed("Rig.Local:8000", allowed)
    assert not host_allowed("rig.local.evil.example", allowed)
    assert not host_allowed("localhost@evil.example", allowed)
    assert host_allowed("10.0.0.1", allowed) and host_allowed("[2001:db8::1]:80", allowed)


# ---- security headers ------------------------------------------------------------------


async def test_security_headers_on_api_ui_errors_and_frames(api: Api) -> None:
    checks = [
        ("/api/v1/status", AUTH, True),
        ("/api/v1/status", {}, True),  # 401
        ("/api/v1/nowhere", AUTH, True),  # 404
        ("/api/v1/camera/preview", AUTH, True),
        ("/", {}, False),
        ("/js/main.js", {}, False),
        ("/docs", {}, False),
    ]
    for path, headers, no_store in checks:
        r = await api.client.get(path, headers=headers)
        csp = r.headers.get("content-security-policy", "")
        assert "frame-ancestors 'none'" in csp and "default-src 'self'" in csp, path
        assert r.headers["x-content-type-options"] == "nosniff", path
        assert r.headers["referrer-policy"] == "no-referrer", path
        if no_store:
            assert r.headers["cache-control"] == "no-store", path


async def test_frames_are_not_cached(api: Api) -> None:
    await home(api)
    r = await api.client.post("/api/v1/stacks", headers=AUTH, json={"start_um": 1000.0, "end_um": 1100.0, "frames": 2})
    assert r.status_code == 201, r.text
    sid = r.json()["id"]
    deadline = asyncio.get_running_loop().time() + 30
    while (await api.client.get(f"/api/v1/stacks/{sid}", headers=AUTH)).json()["state"] not in ("completed", "failed"):
        assert asyncio.get_running_loop().time() < deadline
        await asyncio.sleep(0.05)
    for path in (f"/api/v1/stacks/{sid}/frames/1", f"/api/v1/stacks/{sid}/archive"):
        r = await api.client.get(path, headers=AUTH)
        assert r.status_code == 200, r.text
        assert r.headers["cache-control"] == "no-store", path
        assert r.headers["x-content-type-options"] == "nosniff", path
