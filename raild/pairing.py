"""Single-use pairing codes: how a phone logs in without the token ever being in a URL.

`raild token` (one process) issues a code; the daemon (another process) redeems it
once. They share a 0600 file in the state dir holding only SHA-256 hashes of the
codes and their expiry, so reading the file does not give a usable code. Every
change is read-modify-write under an exclusive `flock` on a side lock file and
lands by an atomic rename, so two processes never lose each other's codes and a
crash never leaves a half-written file.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import hmac
import json
import logging
import os
import secrets
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from raild.atomic import write_atomic
from raild.logs import log_event

log = logging.getLogger("raild.pairing")
PAIR_FILE = "pair_codes.json"
PAIR_LOCK = ".pair_codes.lock"
PAIR_LIFETIME_S = 600
MAX_LIVE_CODES = 32  # a forgotten pile of `raild token` runs stays small
CODE_BYTES = 16  # 128 bits: 22 URL-safe characters


def _digest(code: str) -> str:
    return hashlib.sha256(b"raild-pair\0" + code.encode("utf-8", "surrogateescape")).hexdigest()


class PairingCodes:
    """The shared code file in `state_dir`; every method is blocking file I/O
    (the daemon calls it through `asyncio.to_thread`)."""

    def __init__(self, state_dir: Path, clock: Callable[[], float] = time.time) -> None:
        self.path = state_dir / PAIR_FILE
        self._lock_path = state_dir / PAIR_LOCK
        self._clock = clock

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            _own_like_dir(fd, self._lock_path.parent)
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the lock

    def _read(self) -> dict[str, float]:
        try:
            data = json.loads(self.path.read_bytes())
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            # A damaged file costs the pending codes, never the daemon.
            log_event(log, "pairing file unreadable, starting empty", logging.WARNING, error=str(exc))
            return {}
        if not isinstance(data, dict):
            return {}
        now = self._clock()
        return {
            k: float(v)
            for k, v in data.items()
            if isinstance(k, str) and isinstance(v, int | float) and not isinstance(v, bool) and v > now
        }

    def _write(self, codes: dict[str, float]) -> None:
        write_atomic(self.path, json.dumps(codes, sort_keys=True).encode())
        # mkstemp already creates 0600; the chown keeps the daemon able to read a
        # file that root wrote with `sudo raild token`.
        with contextlib.suppress(OSError):
            fd = os.open(self.path, os.O_RDONLY)
            try:
                _own_like_dir(fd, self.path.parent)
            finally:
                os.close(fd)

    def issue(self, lifetime_s: float = PAIR_LIFETIME_S) -> str:
        code = secrets.token_urlsafe(CODE_BYTES)
        with self._locked():
            codes = self._read()
            codes[_digest(code)] = self._clock() + lifetime_s
            if len(codes) > MAX_LIVE_CODES:
                for old in sorted(codes, key=codes.__getitem__)[: len(codes) - MAX_LIVE_CODES]:
                    del codes[old]
            self._write(codes)
        return code

    def redeem(self, code: str) -> bool:
        """True once for a live code; it is gone afterwards whatever the outcome."""
        if not code or len(code) > 256:
            return False
        wanted = _digest(code)
        with self._locked():
            codes = self._read()
            # Compare every entry in constant time rather than a dict lookup.
            match = next((k for k in codes if hmac.compare_digest(k, wanted)), None)
            if match is None:
                return False
            del codes[match]
            self._write(codes)
        return True


def _own_like_dir(fd: int, folder: Path) -> None:
    """As root, hand a file we created to the state dir's owner (the daemon's user)."""
    if os.geteuid() != 0:
        return
    st = folder.stat()
    with contextlib.suppress(OSError):
        os.fchown(fd, st.st_uid, st.st_gid)
