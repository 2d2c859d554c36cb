"""Server-sent events: the full status first, then what changes.

Each client has its own bus subscription, closed when the client goes away
(the streaming response cancels the generator, `finally` closes it). Status
snapshots are de-duplicated; while the rig moves the snapshot is also sampled
every 100 ms, so clients see ≥ 10 Hz even if the rail publishes less often.
While idle only a keep-alive comment is written, every `KEEPALIVE_S`.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from raild.api.deps import Authed, DaemonDep
from raild.api.problems import AUTHED, problem_responses
from raild.daemon import Daemon
from raild.events import StreamClosed

router = APIRouter(tags=["events"], dependencies=[Authed])

KEEPALIVE_S = 15.0
MOVING_SAMPLE_S = 0.1
MIN_STATUS_INTERVAL_S = 0.04  # at most 25 status events a second per client
_ACTIVE_STATES = ("moving", "homing")


def sse(event: str, data: Any, event_id: int | None = None) -> str:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


def _kind_to_event(kind: str) -> str | None:
    if kind.startswith("job:"):
        return "job"
    if kind.endswith(":fault"):
        return "fault"
    if kind.startswith("controls:"):
        return "controls"  # a physical button was pressed (or its action refused)
    return None


async def event_stream(daemon: Daemon, keepalive_s: float = KEEPALIVE_S) -> AsyncIterator[str]:
    sub = daemon.events.subscribe()
    try:
        last = daemon.status()
        last_status_at = time.monotonic()
        last_write_at = last_status_at
        yield sse("status", last)
        pending = False  # a change arrived inside MIN_STATUS_INTERVAL_S of the last status
        while True:
            now = time.monotonic()
            active = last.get("state") in _ACTIVE_STATES
            timeout = keepalive_s - (now - last_write_at)
            if active:
                timeout = min(timeout, MOVING_SAMPLE_S - (now - last_status_at))
            if pending:
                timeout = min(timeout, MIN_STATUS_INTERVAL_S - (now - last_status_at))
            try:
                event = await sub.get(timeout_s=max(timeout, 0.0))
            except StreamClosed:
                return  # the daemon is stopping: end the response cleanly
            if event is not None:
                named = _kind_to_event(event.kind)
                if named is not None:
                    yield sse(named, {"kind": event.kind, **event.data}, event.seq)
                    last_write_at = time.monotonic()
                pending = True
            now = time.monotonic()
            if (pending or active) and now - last_status_at >= MIN_STATUS_INTERVAL_S:
                pending = False
                last_status_at = now
                snapshot = daemon.status()
                if snapshot != last:
                    last = snapshot
                    last_write_at = now
                    yield sse("status", snapshot)
            elif now - last_write_at >= keepalive_s:
                last_write_at = now
                yield ": keep-alive\n\n"
    finally:
        sub.close()


@router.get(
    "/events",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"text/event-stream": {}}, "description": "status, job and fault events (server-sent events)"},
        **problem_responses(*AUTHED),
    },
)
async def events(daemon: DaemonDep, request: Request) -> StreamingResponse:
    keepalive_s = getattr(request.app.state, "sse_keepalive_s", KEEPALIVE_S)
    return StreamingResponse(
        event_stream(daemon, keepalive_s),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
