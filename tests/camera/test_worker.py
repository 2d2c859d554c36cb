"""The camera worker: one thread, captures before live-view frames, errors delivered."""

from __future__ import annotations

import threading

import pytest

from raild.camera.errors import CameraUnavailable
from raild.camera.worker import PRIORITY_CAPTURE, PRIORITY_PREVIEW, PRIORITY_SETTINGS, CameraWorker


async def test_jobs_run_on_one_thread_by_priority_then_order() -> None:
    worker = CameraWorker()
    worker.start()
    gate = threading.Event()
    ran: list[str] = []
    threads: set[int] = set()

    def job(name: str) -> str:
        threads.add(threading.get_ident())
        ran.append(name)
        return name

    blocker = worker.submit(lambda: gate.wait(5))  # the camera is busy with one job
    queued = [
        worker.submit(lambda: job("preview1"), PRIORITY_PREVIEW),
        worker.submit(lambda: job("settings"), PRIORITY_SETTINGS),
        worker.submit(lambda: job("capture1"), PRIORITY_CAPTURE),
        worker.submit(lambda: job("download1"), PRIORITY_CAPTURE),
        worker.submit(lambda: job("preview2"), PRIORITY_PREVIEW),
    ]
    assert worker.pending(PRIORITY_PREVIEW) == 2
    gate.set()
    assert await blocker is True
    results = [await q for q in queued]
    await worker.stop()
    assert ran == ["capture1", "download1", "settings", "preview1", "preview2"]
    assert results == ["preview1", "settings", "capture1", "download1", "preview2"]
    assert len(threads) == 1 and threading.get_ident() not in threads


async def test_exceptions_reach_the_caller_and_closed_worker_refuses() -> None:
    worker = CameraWorker()
    worker.start()

    def fail() -> None:
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        await worker.run(fail)
    released: list[bool] = []
    await worker.stop(final=lambda: released.append(True))
    assert released == [True]
    with pytest.raises(CameraUnavailable):
        await worker.run(lambda: 1)
