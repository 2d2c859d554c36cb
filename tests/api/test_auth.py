"""Access control: both header forms, the session cookie, the CSRF guard, the login limit."""

from __future__ import annotations

import pytest

from raild.api.auth import LoginLimiter, SessionSigner, tokens_match

from .helpers import AUTH, TOKEN, Api

PROTECTED_GETS = [
    "/api/v1/status",
    "/api/v1/camera",
    "/api/v1/stacks",
    "/api/v1/optics/step?magnification=2&aperture=4",
]


@pytest.mark.parametrize("path", PROTECTED_GETS)
async def test_absent_or_wrong_token_is_401_problem(api: Api, path: str) -> None:
    for headers in (
        {},
        {"Authorization": "Bearer wrong"},
        {"X-Api-Key": "wrong"},
        {"Authorization": f"Basic {TOKEN}"},
        {"Authorization": f"Bearer {TOKEN}x"},
        {"X-Api-Key": TOKEN[:-1]},
    ):
        r = await api.client.get(path, headers=headers)
        assert r.status_code == 401, (path, headers)
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["status"] == 401
        assert r.headers["www-authenticate"] == "Bearer"


async def test_both_header_forms_work(api: Api) -> None:
    for headers in ({"Authorization": f"Bearer {TOKEN}"}, {"authorization": f"bearer {TOKEN}"}, {"X-Api-Key": TOKEN}):
        r = await api.client.get("/api/v1/status", headers=headers)
        assert r.status_code == 200, headers
        assert r.json()["state"] in ("idle", "moving", "homing", "fault", "estop")


async def test_any_wrong_credential_is_refused_even_beside_a_right_one(api: Api) -> None:
    assert (await api.client.post("/api/v1/session", json={"token": TOKEN})).status_code == 200
    r = await api.client.get("/api/v1/status", headers={"X-Api-Key": "wrong"})
    assert r.status_code == 401
    r = await api.client.get("/api/v1/status", headers={**AUTH, "X-Api-Key": "wrong"})
    assert r.status_code == 401
    api.client.cookies.set("raild_session", "forged")
    r = await api.client.get("/api/v1/status", headers=AUTH)
    assert r.status_code == 401 and "session" in r.json()["detail"]


async def test_health_and_session_need_no_token(api: Api) -> None:
    assert (await api.client.get("/api/v1/health")).json()["status"] == "ok"
    assert (await api.client.get("/api/v1/session")).json() == {"authenticated": False}


async def test_login_sets_a_strict_httponly_cookie_that_authenticates(api: Api) -> None:
    r = await api.client.post("/api/v1/session", json={"token": TOKEN})
    assert r.status_code == 200 and r.json() == {"authenticated": True}
    cookie = r.headers["set-cookie"]
    assert cookie.startswith("raild_session=")
    lowered = cookie.lower()
    assert "httponly" in lowered and "samesite=strict" in lowered and "path=/" in lowered
    assert TOKEN not in cookie  # the cookie is a signed session, not the token
    assert (await api.client.get("/api/v1/status")).status_code == 200
    assert (await api.client.get("/api/v1/session")).json() == {"authenticated": True}


async def test_cookie_state_change_needs_x_requested_with(api: Api) -> None:
    await api.client.post("/api/v1/session", json={"token": TOKEN})
    r = await api.client.post("/api/v1/camera/capture")
    assert r.status_code == 403
    assert r.headers["content-type"] == "application/problem+json"
    assert "X-Requested-With" in r.json()["detail"]
    r = await api.client.post("/api/v1/camera/capture", headers={"X-Requested-With": "other"})
    assert r.status_code == 403
    r = await api.client.post("/api/v1/camera/capture", headers={"X-Requested-With": "raild"})
    assert r.status_code == 201, r.text
    # Reads are not state changes; header-token requests need no CSRF header.
    assert (await api.client.get("/api/v1/camera")).status_code == 200
    api.client.cookies.clear()
    assert (await api.client.post("/api/v1/camera/capture", headers=AUTH)).status_code == 201


async def test_logout_revokes_the_session(api: Api) -> None:
    await api.client.post("/api/v1/session", json={"token": TOKEN})
    cookie = api.client.cookies["raild_session"]
    assert (await api.client.delete("/api/v1/session")).status_code == 403  # CSRF guard
    r = await api.client.delete("/api/v1/session", headers={"X-Requested-With": "raild"})
    assert r.status_code == 204
    assert "raild_session=" in r.headers["set-cookie"] and "max-age=0" in r.headers["set-cookie"].lower()
    # Even a client that keeps the old cookie is out.
    api.client.cookies.set("raild_session", cookie)
    assert (await api.client.get("/api/v1/status")).status_code == 401


async def test_forged_or_tampered_cookies_are_refused(api: Api) -> None:
    await api.client.post("/api/v1/session", json={"token": TOKEN})
    good = api.client.cookies["raild_session"]
    expiry, nonce, sig = good.split(".")
    for bad in (
        f"{int(expiry) + 1}.{nonce}.{sig}",
        f"{expiry}.{nonce}x.{sig}",
        "x",
        "",
        f"{expiry}.{nonce}.{'0' * len(sig)}",
        SessionSigner("other").issue(),
    ):
        api.client.cookies.clear()
        api.client.cookies.set("raild_session", bad)
        assert (await api.client.get("/api/v1/status")).status_code == 401, bad


async def test_failed_logins_are_rate_limited_per_client(api: Api) -> None:
    limit = api.daemon.config.api.login_attempts_per_minute
    for _ in range(limit):
        r = await api.client.post("/api/v1/session", json={"token": "wrong"})
        assert r.status_code == 401
    r = await api.client.post("/api/v1/session", json={"token": TOKEN})
    assert r.status_code == 429, "the right token must not get through while locked out"
    assert r.headers["content-type"] == "application/problem+json"
    assert 1 <= int(r.headers["retry-after"]) <= 60
    # The header token still works: the limit is on guessing through the login.
    assert (await api.client.get("/api/v1/status", headers=AUTH)).status_code == 200


def test_login_limiter_window_and_clients() -> None:
    now = [1000.0]
    limiter = LoginLimiter(2, clock=lambda: now[0])
    limiter.failed("a")
    limiter.failed("a")
    assert limiter.retry_after_s("a") == 60
    assert limiter.retry_after_s("b") == 0  # another client is not affected
    now[0] += 30
    assert limiter.retry_after_s("a") == 30
    now[0] += 30
    assert limiter.retry_after_s("a") == 0
    limiter.failed("a")
    limiter.succeeded("a")
    limiter.failed("a")
    assert limiter.retry_after_s("a") == 0


def test_sessions_expire_and_die_with_the_token() -> None:
    now = [1_000_000.0]
    signer = SessionSigner("t1", clock=lambda: now[0])
    cookie = signer.issue()
    assert signer.valid(cookie)
    assert not SessionSigner("t2", clock=lambda: now[0]).valid(cookie)
    now[0] += 31 * 24 * 3600
    assert not signer.valid(cookie)


def test_token_comparison() -> None:
    assert tokens_match("abc", "abc")
    assert not tokens_match("abc", "abd")
    assert not tokens_match("ab", "abc")
    assert not tokens_match("", "abc")
    assert tokens_match("ünï", "ünï")
