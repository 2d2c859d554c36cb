"""Waiting with deadlines: on an event, or polling a condition until it holds.

Never a fixed sleep: each helper returns as soon as the thing waited for is there and
fails with a message naming it when the deadline passes first.
"""

from __future__ import annotations

import asyncio
import subprocess
import threading
import time
from collections.abc import Callable
from typing import Any, Literal, TypeVar

T = TypeVar("T")


def wait_for(
    check: Callable[[], T | Literal[False] | None],
    timeout_s: float,
    what: str,
    proc: subprocess.Popen[Any] | None = None,
    every_s: float = 0.02,
    error: type[Exception] = AssertionError,
) -> T:
    """Poll `check` until it returns something truthy (returned). `proc`, when given, is a
    process that must stay alive meanwhile: its exit fails the wait at once."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise error(f"the process exited ({proc.returncode}) while waiting for {what}")
        value = check()
        if value:
            return value
        time.sleep(every_s)
    raise error(f"timed out after {timeout_s:g} s waiting for {what}")


def wait_event(event: threading.Event, timeout_s: float, what: str) -> None:
    """Block until `event` is set; fail naming `what` after `timeout_s`."""
    if not event.wait(timeout_s):
        raise AssertionError(f"timed out after {timeout_s:g} s waiting for {what}")


async def wait_until(
    check: Callable[[], T | Literal[False] | None], timeout_s: float, what: str, every_s: float = 0.01
) -> T:
    """`wait_for` for a test on the event loop: polls without blocking the loop."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        await asyncio.sleep(every_s)
    raise AssertionError(f"timed out after {timeout_s:g} s waiting for {what}")
