"""One thread that owns a camera handle and runs jobs for the event loop.

libgphoto2 is not thread-safe, so every call on a camera handle runs on this
single thread. The event loop submits jobs and awaits futures, never blocking.
Jobs run by priority, then in submission order: captures and downloads come
before settings, and live-view frames come last, so a preview never makes a
capture wait longer than the one frame already being fetched.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from raild.camera.errors import CameraUnavailable

T = TypeVar("T")

PRIORITY_CAPTURE = 0
PRIORITY_SETTINGS = 1
PRIORITY_PREVIEW = 2
JOIN_TIMEOUT_S = 10.0


class CameraWorker:
    def __init__(self, name: str = "camera-worker") -> None:
        self._name = name
        self._heap: list[tuple[int, int, Callable[[], Any], asyncio.Future[Any]]] = []
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._closing = False

    def start(self) -> None:
        if self._thread is not None:
            return
        self._closing = False
        self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
        self._thread.start()

    @property
    def thread(self) -> threading.Thread | None:
        return self._thread

    def pending(self, priority: int | None = None) -> int:
        with self._cond:
            return sum(1 for job in self._heap if priority is None or job[0] == priority)

    def submit(self, fn: Callable[[], T], priority: int = PRIORITY_CAPTURE) -> asyncio.Future[T]:
        """Queue `fn` for the worker thread; the future resolves on the calling loop."""
        fut: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        with self._cond:
            if self._thread is None or self._closing:
                fut.set_exception(CameraUnavailable("the camera is closed"))
                return fut
            heapq.heappush(self._heap, (priority, next(self._seq), fn, fut))
            self._cond.notify()
        return fut

    async def run(self, fn: Callable[[], T], priority: int = PRIORITY_CAPTURE) -> T:
        return await self.submit(fn, priority)

    async def stop(self, final: Callable[[], Any] | None = None) -> None:
        """Finish queued jobs, run `final` (e.g. release the camera) last, end the thread."""
        if self._thread is None:
            return
        if final is not None:
            try:
                await self.submit(final, priority=PRIORITY_PREVIEW + 1)
            except Exception:  # releasing must not prevent stopping
                pass
        with self._cond:
            self._closing = True
            self._cond.notify()
        thread, self._thread = self._thread, None
        # A camera call stuck inside libgphoto2 cannot be interrupted; do not hang the
        # shutdown on it (the thread is a daemon and dies with the process).
        await asyncio.get_running_loop().run_in_executor(None, thread.join, JOIN_TIMEOUT_S)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._heap and not self._closing:
                    self._cond.wait()
                if not self._heap:
                    return
                _, _, fn, fut = heapq.heappop(self._heap)
            if fut.cancelled():
                continue
            try:
                result = fn()
            except BaseException as exc:  # handed to the awaiting side
                _deliver(fut, None, exc)
            else:
                _deliver(fut, result, None)


def _deliver(fut: asyncio.Future[Any], result: Any, exc: BaseException | None) -> None:
    def settle() -> None:
        if fut.done():
            return
        if exc is not None:
            fut.set_exception(exc)
        else:
            fut.set_result(result)

    loop = fut.get_loop()
    if not loop.is_closed():
        loop.call_soon_threadsafe(settle)
