"""In-process publish/subscribe for state changes (events named `area:action`).

Publishers never block: each subscriber has a bounded queue and, when a slow
client lets it fill, its oldest events are dropped and it is told so with a
`stream:overflow` event. Status snapshots are idempotent, so this is safe.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any


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
        try:
            return await asyncio.wait_for(self._queue.get(), timeout_s)
        except TimeoutError:
            return None

    def close(self) -> None:
        self._bus._subs.discard(self)

    async def __aiter__(self) -> AsyncIterator[Event]:
        while True:
            yield await self._queue.get()

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class EventBus:
    def __init__(self) -> None:
        self._subs: set[Subscription] = set()
        self._seq = itertools.count(1)
        self._loop: asyncio.AbstractEventLoop | None = None

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

    def publish_threadsafe(self, kind: str, data: dict[str, Any]) -> None:
        """Call from worker threads (pigpio callbacks, the camera worker)."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        loop.call_soon_threadsafe(self.publish, kind, data)
