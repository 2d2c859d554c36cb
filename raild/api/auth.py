"""Credentials: the API token, signed session cookies and the login rate limit.

Session cookies are signed with a key derived from the API token, so they survive
a daemon restart and all of them die when the token is rotated. Logging out adds
the session's nonce to an in-memory revocation set until the cookie would expire.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections import deque
from collections.abc import Callable

SESSION_COOKIE = "raild_session"
SESSION_LIFETIME_S = 30 * 24 * 3600
CSRF_HEADER = "x-requested-with"
CSRF_VALUE = "raild"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def tokens_match(given: str, expected: str) -> bool:
    """Constant time in the content and the length: both sides are hashed first."""
    a = hashlib.sha256(given.encode("utf-8", "surrogateescape")).digest()
    b = hashlib.sha256(expected.encode("utf-8", "surrogateescape")).digest()
    return hmac.compare_digest(a, b)


class SessionSigner:
    """Issues and checks `expiry.nonce.signature` cookie values."""

    def __init__(self, token: str, clock: Callable[[], float] = time.time) -> None:
        self._key = hashlib.sha256(b"raild-session\0" + token.encode()).digest()
        self._clock = clock
        self._revoked: dict[str, float] = {}

    def _sign(self, payload: str) -> str:
        return hmac.new(self._key, payload.encode(), hashlib.sha256).hexdigest()

    def issue(self) -> str:
        expiry = int(self._clock()) + SESSION_LIFETIME_S
        payload = f"{expiry}.{secrets.token_urlsafe(16)}"
        return f"{payload}.{self._sign(payload)}"

    def _parse(self, value: str) -> tuple[int, str] | None:
        parts = value.split(".")
        if len(parts) != 3 or not parts[0].isdigit() or len(parts[0]) > 12:
            return None
        payload = f"{parts[0]}.{parts[1]}"
        if not hmac.compare_digest(self._sign(payload), parts[2]):
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
        self._revoked = {n: e for n, e in self._revoked.items() if e > now}
        self._revoked[parsed[1]] = parsed[0]


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
