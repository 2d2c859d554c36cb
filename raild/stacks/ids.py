"""Stack ids: short, URL- and file-name-safe, and sortable by creation time.

`YYYYMMDD-HHMMSS-mmmXX`: UTC time to the millisecond, then two random characters so
two daemons (or a restored backup) never collide. Ids made by one process are
strictly increasing even when the clock steps back or two stacks share a millisecond.
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from datetime import UTC, datetime

ID_PATTERN = re.compile(r"^\d{8}-\d{6}-\d{3}[0-9a-z]{2}$")
_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
_lock = threading.Lock()
_last_ms = 0


def new_stack_id(now_s: float | None = None) -> str:
    global _last_ms
    with _lock:
        ms = int((time.time() if now_s is None else now_s) * 1000)
        ms = max(ms, _last_ms + 1)
        _last_ms = ms
    stamp = datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y%m%d-%H%M%S")
    tail = "".join(secrets.choice(_ALPHABET) for _ in range(2))
    return f"{stamp}-{ms % 1000:03d}{tail}"


def is_stack_id(value: object) -> bool:
    return isinstance(value, str) and ID_PATTERN.fullmatch(value) is not None
