"""FocusService on frames written to disk: landing frames never wait, lag is caught up,
identical frames give a sane answer, and a finished stack's results are cached on disk."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from raild.camera.render import Optics, Subject, encode_jpeg, render
from raild.events import EventBus
from raild.focus import service as service_module
from raild.focus.service import FocusService, LandedFrame, StackFrames

SID = "20260101-120000-000ab"
SUBJECT = Subject(240, 160, 2000.0, 3)
OPTICS = Optics(4.0, 4.0)


def write_frames(folder: Path, positions: list[float], same: bool = False) -> list[LandedFrame]:
    folder.mkdir(parents=True, exist_ok=True)
    frames = []
    for i, x in enumerate(positions, start=1):
        path = folder / f"frame_{i:05d}.jpg"
        path.write_bytes(encode_jpeg(render(SUBJECT, OPTICS, 1000.0 if same else x), 90, "simulated test frame"))
        frames.append(LandedFrame(i, x, path))
    return frames


async def wait_until(condition: Callable[[], bool], timeout_s: float = 30.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        if condition():
            return
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


@pytest.fixture
async def service(tmp_path: Path):
    bus = EventBus()
    bus.bind_loop(asyncio.get_running_loop())
    svc = FocusService(tmp_path, bus)
    await svc.start()
    yield svc, bus
    await svc.stop()


async def test_identical_frames_give_no_depth_information(service, tmp_path: Path) -> None:
    svc, _ = service
    folder = tmp_path / "stacks" / SID
    frames = write_frames(folder, [float(x) for x in range(0, 2000, 200)], same=True)
    cov = await svc.coverage(StackFrames(SID, folder, False, frames), wait_s=30)
    doc = cov.to_dict()
    assert doc["state"] == "final" and doc["frames_analyzed"] == len(frames)
    assert doc["depth_information"] is False and doc["complete"] is False and doc["suggest"] is None
    assert "no depth information" in doc["detail"]
    # The preview of identical frames is still an image (one of them), not an error.
    assert (await svc.preview(StackFrames(SID, folder, False, frames), wait_s=30))[:3] == b"\xff\xd8\xff"


async def test_landing_frames_never_wait_for_a_stuck_worker_and_lag_is_caught_up(
    service, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    svc, bus = service
    monkeypatch.setattr(service_module, "MAX_PENDING", 4)
    folder = tmp_path / "stacks" / SID
    frames = write_frames(folder, [float(x) for x in range(-300, 2400, 150)])
    release = threading.Event()
    real = svc._analyse

    def stuck(state, frame):  # the worker is busy (a slow SD card, a loaded CPU)
        release.wait(30)
        real(state, frame)

    monkeypatch.setattr(svc, "_analyse", stuck)
    loop = asyncio.get_running_loop()
    for f in frames:
        started = loop.time()
        bus.publish("job:frame", {"id": SID, "index": f.index, "position_um": f.position_um, "name": f.path.name})
        await asyncio.sleep(0)  # let the listener take it
        assert loop.time() - started < 0.05  # publishing (the capture path) never waits on analysis
    # The listener has seen every frame; only MAX_PENDING were queued, the rest counted as skipped.
    await wait_until(lambda: svc.skipped + svc._pending >= len(frames))
    assert svc._pending == 4 and svc.skipped == len(frames) - 4
    cov = await svc.coverage(StackFrames(SID, folder, True, frames))
    assert cov.state in ("pending", "partial")
    release.set()
    cov = await svc.coverage(StackFrames(SID, folder, False, frames), wait_s=30)
    assert cov.state == "final" and cov.frames_analyzed == len(frames) and cov.complete, cov


async def test_finished_stack_is_cached_and_read_back_without_decoding(service, tmp_path: Path) -> None:
    svc, bus = service
    folder = tmp_path / "stacks" / SID
    frames = write_frames(folder, [float(x) for x in range(-300, 2400, 150)])
    view = StackFrames(SID, folder, False, frames)
    first = await svc.coverage(view, wait_s=30)
    bus.publish("job:state", {"id": SID, "state": "completed"})
    await wait_until((folder / "focus" / "depthmap.png").exists)
    await svc.stop()

    fresh = FocusService(tmp_path, bus)
    await fresh.start()
    try:
        before = fresh.analysed
        again = await fresh.coverage(view)
        assert again.to_dict() == first.to_dict() and fresh.analysed == before  # nothing decoded again
        cached = (folder / "focus" / "preview.jpg").read_bytes()
        assert (await fresh.preview(view)) == cached
        # Resumed: one more frame lands, so the cached fusion is stale and every frame is fused again.
        exact = SUBJECT.regions[5].depth_um  # a terrace exactly in focus: the fusion gains detail
        more = write_frames(folder, [*(f.position_um for f in frames), exact])[-1:]
        bus.publish("job:frame", {"id": SID, "index": more[0].index, "position_um": exact, "name": more[0].path.name})
        grown = StackFrames(SID, folder, False, [*frames, *more])
        await wait_until(lambda: fresh.analysed > before)
        cov = await fresh.coverage(grown, wait_s=30)
        assert cov.frames_analyzed == len(frames) + 1 and fresh.analysed == before + len(frames) + 1
        assert (await fresh.preview(grown)) != cached
    finally:
        await fresh.stop()


async def test_unreadable_frames_are_skipped_not_fatal(service, tmp_path: Path) -> None:
    svc, _ = service
    folder = tmp_path / "stacks" / SID
    frames = write_frames(folder, [float(x) for x in range(-300, 2400, 150)])
    frames[3].path.write_bytes(b"not a jpeg: a raw file, say")
    cov = await svc.coverage(StackFrames(SID, folder, False, frames), wait_s=30)
    assert cov.state == "final" and cov.frames_analyzed == len(frames) - 1


def test_tile_grid_covers_the_frame() -> None:
    from raild.focus.measure import decode_frame, tile_sharpness

    image = decode_frame(encode_jpeg(render(SUBJECT, OPTICS, 500.0), 90, "simulated"))
    grid = tile_sharpness(image.gray)
    assert grid.shape == (16, 24) and np.all(grid > 0)
