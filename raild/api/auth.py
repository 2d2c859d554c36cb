"""Credentials: the API token, signed session cookies and the login rate limit.

Session cookies are signed with a key derived from the API token, so they survive
a daemon restart and all of them die when the token is rotated. Logging out adds
the session's nonce to a revocation set until the cookie would expire; the set is
kept in a 0600 file in the state dir, so a logout survives a restart too.

Everything a client sends is compared as bytes: a header or cookie may hold any
byte, and a non-ASCII value must be "wrong" (401), never an exception (500).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path

from starlette.requests import HTTPConnection

from raild.atomic import write_atomic
from raild.logs import log_event

log = logging.getLogger("raild.api.auth")

SESSION_COOKIE = "raild_session"
# A week: a lost phone stops being a key on its own soon; pairing again is one scan.
SESSION_LIFETIME_S = 7 * 24 * 3600
REVOKED_FILE = "revoked_sessions.json"
CSRF_HEADER = "x-requested-with"
CSRF_VALUE = "raild"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def csrf_header_sent(request: HTTPConnection) -> bool:
    """The CSRF guard for cookie-authenticated changes: browsers send cookies on cross-site
    requests but cannot add this header without a CORS preflight we do not grant."""
    return request.headers.get(CSRF_HEADER) == CSRF_VALUE


def _bytes(value: str | bytes) -> bytes:
    # Headers arrive decoded as latin-1; any str encodes with surrogateescape.
    return value if isinstance(value, bytes) else value.encode("utf-8", "surrogateescape")


def tokens_match(given: str | bytes, expected: str | bytes) -> bool:
    """Constant time in the content and the length: both sides are hashed first."""
    a = hashlib.sha256(_bytes(given)).digest()
    b = hashlib.sha256(_bytes(expected)).digest()
    return hmac.compare_digest(a, b)


def session_cookies(request: HTTPConnection) -> list[str]:
    """Every `raild_session` value in every Cookie header. Starlette's `cookies`
    keeps one of them; a forged copy beside a good one must not go unchecked."""
    found: list[str] = []
    for header in request.headers.getlist("cookie"):
        for part in header.split(";"):
            name, sep, value = part.partition("=")
            if sep and name.strip() == SESSION_COOKIE:
                found.append(value.strip().strip('"'))
    return found


class SessionSigner:
    """Issues and checks `expiry.nonce.signature` cookie values."""

    def __init__(self, token: str, clock: Callable[[], float] = time.time, revoked_path: Path | None = None) -> None:
        self._key = hashlib.sha256(b"raild-session\0" + _bytes(token)).digest()
        self._clock = clock
        self._revoked_path = revoked_path
        self._revoked: dict[str, float] = self._load_revoked()

    def _load_revoked(self) -> dict[str, float]:
        if self._revoked_path is None:
            return {}
        try:
            data = json.loads(self._revoked_path.read_bytes())
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            log_event(log, "revoked sessions unreadable", logging.WARNING, error=str(exc))
            return {}
        now = self._clock()
        if not isinstance(data, dict):
            return {}
        return {k: float(v) for k, v in data.items() if isinstance(v, int | float) and v > now}

    def _sign(self, payload: str) -> str:
        return hmac.new(self._key, payload.encode(), hashlib.sha256).hexdigest()

    def issue(self) -> str:
        expiry = int(self._clock()) + SESSION_LIFETIME_S
        payload = f"{expiry}.{secrets.token_urlsafe(16)}"
        return f"{payload}.{self._sign(payload)}"

    def _parse(self, value: str) -> tuple[int, str] | None:
        # Only what `issue` makes can be valid: ASCII, so `isdigit` cannot accept
        # other scripts' digits and the comparison below is of bytes.
        if not value.isascii():
            return None
        parts = value.split(".")
        if len(parts) != 3 or not parts[0].isdigit() or len(parts[0]) > 12:
            return None
        payload = f"{parts[0]}.{parts[1]}"
        if not hmac.compare_digest(self._sign(payload).encode(), parts[2].encode()):
            return None
        return int(parts[0]), parts[1]

    def valid(self, value: str) -> bool:
        parsed = self._parse(value)
        if parsed is None:
            return False
        expiry, nonce = parsed
        return expiry > self._clock() and nonce not in self._revoked

    def revoke(self, value: str) -> None:
        parsed = self._parse(value)
        if parsed is None:
            return
        now = self._clock()
        # Forget revocations whose cookies have expired anyway: the set stays small.
        revoked = {n: e for n, e in self._revoked.items() if e > now}
        revoked[parsed[1]] = parsed[0]
        self._revoked = revoked
        if self._revoked_path is not None:
            # Blocking but tiny; the logout route calls this through a thread.
            try:
                write_atomic(self._revoked_path, json.dumps(revoked, sort_keys=True).encode())
            except OSError as exc:
                log_event(log, "logout not saved; it holds until a restart", logging.ERROR, error=str(exc))


class LoginLimiter:
    """At most `attempts_per_minute` failed logins per client in any 60 s window."""

    WINDOW_S = 60.0
    MAX_CLIENTS = 10_000  # bounds memory if someone sprays from many addresses

    def __init__(self, attempts_per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self._limit = attempts_per_minute
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}

    def _recent(self, client: str) -> deque[float]:
        now = self._clock()
        times = self._failures.get(client, deque())
        while times and now - times[0] >= self.WINDOW_S:
            times.popleft()
        return times

    def retry_after_s(self, client: str) -> int:
        """0 when the client may try; else whole seconds until it may."""
        times = self._recent(client)
        if len(times) < self._limit:
            return 0
        return max(1, int(times[0] + self.WINDOW_S - self._clock() + 0.999))

    def failed(self, client: str) -> None:
        times = self._recent(client)
        times.append(self._clock())
        self._failures[client] = times
        if len(self._failures) > self.MAX_CLIENTS:
            oldest = min(self._failures, key=lambda c: self._failures[c][-1])
            del self._failures[oldest]

    def succeeded(self, client: str) -> None:
        self._failures.pop(client, None)
