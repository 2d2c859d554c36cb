"""Live view: MJPEG parts from preview(), a shared frame-rate cap, clean end on disconnect."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import httpx
import pytest
import uvicorn
from PIL import Image
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.routing import Route

from raild.camera.errors import Unsupported
from raild.camera.liveview import BOUNDARY, MEDIA_TYPE, LiveView, liveview_for, mjpeg_stream
from raild.camera.sim import SimCamera
from raild.camera.wired import WiredCamera
from tests.support.ports import free_port

from .helpers import MovablePosition, make_config

FAST = {"capture_latency_ms": 0, "download_ms": 0, "preview_ms": 0, "image_width": 96, "image_height": 64}


class FakeClock:
    """Time that passes only when the code under test sleeps, so the cap is checked exactly."""

    def __init__(self) -> None:
        self.now_s = 100.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now_s

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now_s += seconds
        await asyncio.sleep(0)


def parse_part(part: bytes) -> bytes:
    head, _, rest = part.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    assert lines[0] == f"--{BOUNDARY}" and "Content-Type: image/jpeg" in lines
    length = int(next(v for v in lines if v.startswith("Content-Length:")).split(":")[1])
    assert rest[length:] == b"\r\n"
    return rest[:length]


async def open_sim(**sim: object) -> SimCamera:
    cam = SimCamera(make_config(sim={**FAST, **sim}), position_um=MovablePosition(50_000.0))
    await cam.open()
    return cam


async def test_frames_are_jpegs_paced_at_the_cap() -> None:
    cam = await open_sim()
    clock = FakeClock()
    view = LiveView(cam, max_fps=4.0, clock=clock, sleep=clock.sleep)
    stream = view.stream()
    parts = [await anext(stream) for _ in range(5)]
    await stream.aclose()
    await cam.close()
    for part in parts:
        with Image.open(io.BytesIO(parse_part(part))) as im:
            assert im.format == "JPEG"
    assert view.previews == 5
    assert clock.sleeps == pytest.approx([0.25] * 4)  # the first frame is immediate
    assert view.viewers == 0


async def test_viewers_share_frames_instead_of_multiplying_camera_work() -> None:
    cam = await open_sim()
    clock = FakeClock()
    view = LiveView(cam, max_fps=5.0, clock=clock, sleep=clock.sleep)

    async def watch(n: int) -> int:
        stream = view.stream()
        for _ in range(n):
            await anext(stream)
        await stream.aclose()
        return n

    assert await asyncio.gather(watch(6), watch(6), watch(6)) == [6, 6, 6]
    await cam.close()
    assert view.previews <= 7  # 18 frames delivered from about 6 camera previews
    assert clock.now_s - 100.0 == pytest.approx(0.2 * (view.previews - 1))


async def test_a_camera_without_live_view_ends_the_stream_with_unsupported() -> None:
    cam = WiredCamera(make_config(camera={"backend": "gpio"}), pin_factory=None)
    with pytest.raises(Unsupported, match="no live view"):
        await anext(mjpeg_stream(cam, 8.0))


async def test_a_capture_is_not_kept_waiting_by_live_view(tmp_path: Path) -> None:
    cam = await open_sim(capture_latency_ms=150, preview_ms=20)
    order: list[str] = []

    async def shoot() -> None:
        await cam.capture(tmp_path / "f.jpg")
        order.append("capture done")

    async def look() -> None:
        await asyncio.sleep(0.01)  # asks while the exposure is under way
        await cam.preview()
        order.append("preview done")

    await asyncio.gather(shoot(), look())
    await cam.close()
    assert order == ["capture done", "preview done"]


async def test_stream_over_http_stops_when_the_viewer_leaves() -> None:
    cam = await open_sim()

    async def liveview(request: Request) -> StreamingResponse:
        return StreamingResponse(mjpeg_stream(cam, 20.0, request.is_disconnected), media_type=MEDIA_TYPE)

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            Starlette(routes=[Route("/liveview", liveview)]),
            host="127.0.0.1",
            port=port,
            log_level="warning",
            lifespan="off",
        )
    )
    serving = asyncio.create_task(server.serve())
    try:
        for _ in range(500):
            if server.started:
                break
            await asyncio.sleep(0.01)
        view = liveview_for(cam, 20.0)
        async with httpx.AsyncClient() as client:
            async with client.stream("GET", f"http://127.0.0.1:{port}/liveview") as resp:
                assert resp.headers["content-type"] == MEDIA_TYPE
                received = b""
                async for chunk in resp.aiter_bytes():
                    received += chunk
                    if received.count(f"--{BOUNDARY}".encode()) >= 3:
                        break
                assert view.viewers == 1
        for _ in range(200):  # the server notices the closed socket and closes the generator
            if view.viewers == 0:
                break
            await asyncio.sleep(0.01)
        assert view.viewers == 0
        settled = view.previews
        await asyncio.sleep(0.3)
        assert view.previews == settled  # nobody watching: the camera is left alone
    finally:
        server.should_exit = True
        await serving
        await cam.close()
