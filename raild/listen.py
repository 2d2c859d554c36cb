"""Where the running daemon listens, for `raild token`'s login URL.

`raild serve --port 9000` overrides the config, so the config alone cannot tell
`raild token` the real port. The daemon writes its address and pid to the state
dir once it listens; `raild token` uses it while that process is alive.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from raild.atomic import write_atomic
from raild.logs import log_event

log = logging.getLogger("raild.listen")
LISTEN_FILE = "listen.json"


@dataclass(frozen=True)
class Listening:
    host: str
    port: int


def record_listen(state_dir: Path, host: str, port: int) -> None:
    data = {"host": host, "port": port, "pid": os.getpid()}
    try:
        write_atomic(state_dir / LISTEN_FILE, json.dumps(data).encode())
    except OSError as exc:
        log_event(log, "could not record the listening address", logging.WARNING, error=str(exc))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # a process of another user (raild) that exists
    return True


def running_listen(state_dir: Path) -> Listening | None:
    """The running daemon's address, or None when none is recorded or it has exited."""
    with contextlib.suppress(OSError, ValueError, TypeError, KeyError):
        data = json.loads((state_dir / LISTEN_FILE).read_bytes())
        pid, host, port = int(data["pid"]), str(data["host"]), int(data["port"])
        if pid > 0 and _alive(pid) and 1 <= port <= 65535:
            return Listening(host, port)
    return None
