"""Live view is an MJPEG stream of the simulated camera over a real socket."""

from __future__ import annotations

import httpx

from .helpers import AUTH, Api, LiveApi


async def test_liveview_streams_jpeg_parts(api: Api, live_api: LiveApi) -> None:
    async with httpx.AsyncClient(base_url=live_api.base_url, headers=AUTH, timeout=10) as client:
        async with client.stream("GET", "/api/v1/camera/liveview") as r:
            assert r.status_code == 200
            ctype = r.headers["content-type"]
            assert ctype.startswith("multipart/x-mixed-replace")
            boundary = ctype.split("boundary=")[1].encode()
            data = b""
            async for chunk in r.aiter_bytes():
                data += chunk
                if data.count(b"--" + boundary) >= 3:
                    break
    parts = [p for p in data.split(b"--" + boundary) if p.strip()]
    assert len(parts) >= 2
    head, _, body = parts[0].partition(b"\r\n\r\n")
    assert b"Content-Type: image/jpeg" in head
    assert body.startswith(b"\xff\xd8\xff")


async def test_liveview_503_when_the_camera_is_gone(api: Api) -> None:
    await api.daemon.camera.close()
    r = await api.client.get("/api/v1/camera/liveview", headers=AUTH)
    assert r.status_code == 503
    assert r.headers["content-type"] == "application/problem+json"
