"""In-process publish/subscribe for state changes (events named `area:action`).

Publishers never block: each subscriber has a bounded queue and, when a slow
client lets it fill, its oldest events are dropped (counted in `dropped`).
Status snapshots are idempotent, so a reader only loses intermediate states.

`close_all()` ends every subscription (the daemon is stopping): a waiting `get()`
raises `StreamClosed` at once, so an open event stream never holds up shutdown.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any


class StreamClosed(Exception):
    """The bus was closed: the subscriber should end its stream."""


_CLOSE = "bus:close"  # internal marker; never delivered to a reader


@dataclass(frozen=True)
class Event:
    kind: str
    data: dict[str, Any]
    seq: int
    time_s: float = field(default_factory=time.time)


class Subscription:
    def __init__(self, bus: EventBus, maxsize: int) -> None:
        self._bus = bus
        self._queue: asyncio.Queue[Event] = asyncio.Queue(maxsize)
        self.dropped = 0

    def _offer(self, event: Event) -> None:
        if self._queue.full():
            try:
                self._queue.get_nowait()
            except asyncio.QueueEmpty:
                pass
            self.dropped += 1
        self._queue.put_nowait(event)

    async def get(self, timeout_s: float | None = None) -> Event | None:
        if self._bus.closed:
            raise StreamClosed
        try:
            event = await asyncio.wait_for(self._queue.get(), timeout_s)
        except TimeoutError:
            return None
        if event.kind == _CLOSE:
            raise StreamClosed
        return event

    def close(self) -> None:
        self._bus._subs.discard(self)

    async def __aiter__(self) -> AsyncIterator[Event]:
        while True:
            try:
                event = await self.get()
            except StreamClosed:
                return
            if event is not None:
                yield event

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class EventBus:
    def __init__(self) -> None:
        self._subs: set[Subscription] = set()
        self._seq = itertools.count(1)
        self._loop: asyncio.AbstractEventLoop | None = None
        self.closed = False

    def bind_loop(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    @property
    def subscriber_count(self) -> int:
        return len(self._subs)

    def subscribe(self, maxsize: int = 256) -> Subscription:
        sub = Subscription(self, maxsize)
        self._subs.add(sub)
        return sub

    def publish(self, kind: str, data: dict[str, Any]) -> None:
        """Call from the event loop thread."""
        event = Event(kind, data, next(self._seq))
        for sub in list(self._subs):
            sub._offer(event)

    def close_all(self) -> None:
        """End every subscription now (call on the loop thread; idempotent)."""
        if self.closed:
            return
        self.closed = True
        marker = Event(_CLOSE, {}, 0)
        for sub in list(self._subs):
            sub._offer(marker)

    def publish_threadsafe(self, kind: str, data: dict[str, Any]) -> None:
        """Call from worker threads (pigpio callbacks, the camera worker)."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        loop.call_soon_threadsafe(self.publish, kind, data)
