"""Start rig work in the background for a 202 without losing its refusal.

A move or homing that is refused (busy, e-stop, limits) fails before its first
real suspension; yielding to the loop once lets that happen, so the client still
gets the 409/422 rather than a 202 for work that never started.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

from raild.logs import log_event

log = logging.getLogger("raild.api")
_running: set[asyncio.Task[Any]] = set()  # strong references until each task ends


def _finished(task: asyncio.Task[Any]) -> None:
    _running.discard(task)
    if task.cancelled():
        return
    exc = task.exception()
    if exc is not None:
        # Interrupted or failed after the 202: the status and events report it.
        log_event(
            log,
            "background work ended with an error",
            logging.INFO,
            task=task.get_name(),
            error=type(exc).__name__,
            detail=str(exc),
        )


async def start_checked(work: Coroutine[Any, Any, Any] | asyncio.Task[Any], name: str) -> asyncio.Task[Any]:
    task = work if isinstance(work, asyncio.Task) else asyncio.create_task(work, name=name)
    for _ in range(3):
        if task.done():
            break
        await asyncio.sleep(0)
    if task.done() and not task.cancelled() and task.exception() is not None:
        raise task.exception()  # type: ignore[misc]
    _running.add(task)
    task.add_done_callback(_finished)
    return task
