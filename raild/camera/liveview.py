"""Live view: an MJPEG stream (multipart/x-mixed-replace) built on `Camera.preview()`.

Frames are shared: however many phones watch, the camera is asked for at most
`max_fps` previews a second, and each viewer gets the newest frame. The cap
keeps live view from starving motion and capture; the camera backends also run
previews at the lowest priority, so a capture waits at most for the one frame
already in flight. The stream ends when the viewer goes away (the server closes
the generator, or `is_disconnected` says so) or when the camera cannot preview.
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable

from raild.camera.errors import CameraBusy, Unsupported
from raild.camera.protocol import Camera
from raild.logs import log_event

log = logging.getLogger("raild.camera.liveview")

BOUNDARY = "raildframe"
MEDIA_TYPE = f"multipart/x-mixed-replace; boundary={BOUNDARY}"


def mjpeg_part(jpeg: bytes) -> bytes:
    head = f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(jpeg)}\r\n\r\n"
    return head.encode("ascii") + jpeg + b"\r\n"


class LiveView:
    def __init__(
        self,
        camera: Camera,
        max_fps: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._camera = camera
        self.interval_s = 1.0 / max_fps
        self._clock = clock
        self._sleep = sleep
        self._lock = asyncio.Lock()
        self._frame: bytes | None = None
        self._frame_at = -1e9
        self.previews = 0  # frames actually asked of the camera
        self.viewers = 0

    async def frame(self, newer_than: float = -1e9) -> tuple[bytes, float]:
        """A frame taken after `newer_than`, no sooner than the cap allows; (jpeg, taken_at)."""
        async with self._lock:
            if self._frame is not None and self._frame_at > newer_than:
                return self._frame, self._frame_at
            wait_s = self._frame_at + self.interval_s - self._clock()
            if wait_s > 0:
                await self._sleep(wait_s)
            self._frame_at = self._clock()
            self._frame = await self._camera.preview()
            self.previews += 1
            return self._frame, self._frame_at

    async def stream(self, is_disconnected: Callable[[], Awaitable[bool]] | None = None) -> AsyncIterator[bytes]:
        """MJPEG parts, one per new frame. Camera errors other than busy end the stream."""
        self.viewers += 1
        last = -1e9
        try:
            while is_disconnected is None or not await is_disconnected():
                try:
                    jpeg, last = await self.frame(newer_than=last)
                except CameraBusy:
                    await self._sleep(self.interval_s)  # a capture has the camera; try the next slot
                    continue
                yield mjpeg_part(jpeg)
        finally:
            self.viewers -= 1
            log_event(log, "live view viewer left", logging.DEBUG, viewers=self.viewers)


_shared: weakref.WeakKeyDictionary[object, LiveView] = weakref.WeakKeyDictionary()


def liveview_for(camera: Camera, max_fps: float) -> LiveView:
    """The one `LiveView` of this camera, so all viewers share its frames and its cap."""
    view = _shared.get(camera)
    if view is None:
        view = _shared[camera] = LiveView(camera, max_fps)
    return view


def mjpeg_stream(
    camera: Camera, max_fps: float, is_disconnected: Callable[[], Awaitable[bool]] | None = None
) -> AsyncIterator[bytes]:
    """For `StreamingResponse(mjpeg_stream(...), media_type=MEDIA_TYPE)`. Call
    `await camera.preview()` first if a 503 must come before the stream starts."""
    return liveview_for(camera, max_fps).stream(is_disconnected)


def require_live_view(camera: Camera, what: str) -> None:
    """`Unsupported` (503) when the camera has no live view (a wired shutter)."""
    if not camera.capabilities.preview:
        raise Unsupported(f"the {camera.backend} camera cannot show {what}")


async def preview_frame(camera: Camera) -> bytes:
    """One live-view frame (`GET camera/preview`)."""
    require_live_view(camera, "a preview")
    return await camera.preview()


async def liveview_stream(
    camera: Camera, max_fps: float, is_disconnected: Callable[[], Awaitable[bool]] | None = None
) -> AsyncIterator[bytes]:
    """The shared stream (`GET camera/liveview`), after one preview: a camera that cannot
    deliver raises its 503/409 now, not after a 200 followed by an empty stream."""
    require_live_view(camera, "live view")
    await camera.preview()
    return mjpeg_stream(camera, max_fps, is_disconnected)
