"""Connection limits below HTTP: no client can hold the daemon's sockets hostage.

uvicorn closes a connection that stays idle after a response (`timeout_keep_alive`)
but never one that has not yet sent a complete request: a device that opens a
thousand sockets and sends nothing, or half a request head, would keep them until
the process runs out of files and stop and e-stop can no longer be accepted.

`guarded_h11(...)` returns uvicorn's own h11 protocol with two additions:
- a per-client-address cap: a connection beyond it is aborted as it is accepted,
  so its file is back at once;
- a head deadline: a connection that is waiting for a request head (just opened,
  or between requests) and has not received a complete one within the timeout is
  closed. Trickling bytes does not extend it; a request being answered (an event
  stream, a download) is not limited by it;
- a total: when `max_total` connections are open, a new one makes room by closing
  the one that has waited longest for a request head, so many addresses together
  cannot fill the file table either, and a stop or e-stop still gets in.
HTTP parsing stays uvicorn's and h11's.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

from raild.logs import log_event

log = logging.getLogger("raild.api.connguard")


class _GuardedH11(H11Protocol):
    header_timeout_s: float = 10.0
    max_per_client: int = 32
    max_total: int = 256
    open_by_client: Counter[str]
    refused_logged: set[str]
    # Connections waiting for a request head, oldest first (dicts keep insertion order).
    waiting: dict[_GuardedH11, None]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._peer: str | None = None
        self._refused = False
        self._head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        peer = transport.get_extra_info("peername")
        host = str(peer[0]) if isinstance(peer, tuple) and peer else "unknown"
        if self.open_by_client[host] >= self.max_per_client:
            self._refused = True
            if host not in self.refused_logged:  # once per burst, not per socket
                self.refused_logged.add(host)
                log_event(log, "too many connections from one client; closing the excess", logging.WARNING, client=host)
            transport.abort()
            return
        if self.open_by_client.total() >= self.max_total and self.waiting:
            oldest = next(iter(self.waiting))
            oldest._forget_waiting()
            oldest.transport.abort()
        self._peer = host
        self.open_by_client[host] += 1
        super().connection_made(transport)
        self._check_head_deadline()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._refused:
            return
        self._cancel_head_timer()
        if self._peer is not None:
            self.open_by_client[self._peer] -= 1
            if self.open_by_client[self._peer] <= 0:
                del self.open_by_client[self._peer]
                self.refused_logged.discard(self._peer)
            self._peer = None
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._check_head_deadline()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._check_head_deadline()

    # A request is "in flight" from its complete head until its response is sent.
    def _in_flight(self) -> bool:
        return self.cycle is not None and not self.cycle.response_complete

    def _check_head_deadline(self) -> None:
        if self._in_flight():
            self._cancel_head_timer()
        elif self._head_timer is None and not self.transport.is_closing():
            self._head_timer = self.loop.call_later(self.header_timeout_s, self._head_timed_out)
            self.waiting[self] = None

    def _forget_waiting(self) -> None:
        self.waiting.pop(self, None)

    def _cancel_head_timer(self) -> None:
        self._forget_waiting()
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        self._forget_waiting()
        if not self._in_flight() and not self.transport.is_closing():
            # No answer is owed: the client never finished asking.
            self.transport.abort()


def guarded_h11(header_timeout_s: float, max_per_client: int, max_total: int) -> type[asyncio.Protocol]:
    """A protocol class for `uvicorn.Config(http=...)`, with its own counters."""
    return type(
        "GuardedH11Protocol",
        (_GuardedH11,),
        {
            "header_timeout_s": header_timeout_s,
            "max_per_client": max_per_client,
            "max_total": max_total,
            "open_by_client": Counter(),
            "refused_logged": set(),
            "waiting": {},
        },
    )
