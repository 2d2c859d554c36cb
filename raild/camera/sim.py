"""The simulated optical camera (backend "sim").

Renders the synthetic subject of `raild.camera.render` as seen from the
carriage's true position at the instant of exposure, with the configured
latencies. Everything it produces is labelled simulated (model name and EXIF).
The position source and the exposure recorder are plain callables, so it works
on its own; `create_camera` plugs in the virtual rig's.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from raild.atomic import write_atomic
from raild.camera.errors import CameraUnavailable
from raild.camera.protocol import Capabilities, Capture, Setting
from raild.camera.render import SIMULATED_MODEL, Optics, Subject, encode_jpeg, render
from raild.camera.sim_settings import SimSettings
from raild.config import Config
from raild.events import EventBus


class SimCamera:
    backend = "sim"
    capabilities = Capabilities(capture=True, confirm=True, download=True, preview=True, settings=True)

    def __init__(
        self,
        config: Config,
        position_um: Callable[[], float],
        on_exposure: Callable[[str], object] | None = None,
        events: EventBus | None = None,
    ) -> None:
        self._sim = config.sim
        self._position_um = position_um
        self._on_exposure = on_exposure
        self._events = events
        self._settings = SimSettings(config.sim.aperture)
        self._subject: Subject | None = None
        self._connected = False
        self._frames = 0
        self._capture_lock = asyncio.Lock()
        self._last_download: asyncio.Future[Path | None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        # Separate threads: a live-view render never delays a frame's download.
        self._download_pool: ThreadPoolExecutor | None = None
        self._preview_pool: ThreadPoolExecutor | None = None

    async def open(self) -> None:
        if self._connected:
            return
        self._download_pool = ThreadPoolExecutor(1, thread_name_prefix="simcam-download")
        self._preview_pool = ThreadPoolExecutor(1, thread_name_prefix="simcam-preview")
        loop = asyncio.get_running_loop()
        s = self._sim
        self._subject = await loop.run_in_executor(
            self._download_pool, Subject, s.image_width, s.image_height, s.subject_depth_um, s.seed
        )
        self._connected = True
        self._publish_status()

    async def close(self) -> None:
        if not self._connected:
            return
        self._connected = False
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        for pool in (self._download_pool, self._preview_pool):
            if pool is not None:
                pool.shutdown(wait=False)
        self._download_pool = self._preview_pool = None
        self._publish_status()

    def status(self) -> dict[str, Any]:
        return {"backend": self.backend, "connected": self._connected, "model": SIMULATED_MODEL}

    @property
    def subject(self) -> Subject:
        if self._subject is None:
            raise CameraUnavailable("the simulated camera is not open")
        return self._subject

    async def capture(self, dest: Path) -> Capture:
        self._require_open()
        loop = asyncio.get_running_loop()
        async with self._capture_lock:
            time_s = time.time()
            position_um = float(self._position_um())
            if self._on_exposure is not None:
                self._on_exposure(Path(dest).name)
            self._frames += 1
            frame = self._frames
            optics = self._optics()
            quality = self._settings.jpeg_quality
            await asyncio.sleep(self._sim.capture_latency_ms / 1000.0)
            download: asyncio.Future[Path | None] = loop.create_future()
            previous, self._last_download = self._last_download, download
            task = asyncio.create_task(
                self._download(previous, download, Path(dest), position_um, optics, quality, frame)
            )
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return Capture(
            confirmed=True,
            download=download,
            camera_file=f"sim/FRAME_{frame:05d}.JPG",
            time_s=time_s,
            info={"position_um": position_um, "simulated": True},
        )

    async def preview(self) -> bytes:
        self._require_open()
        # Captures come first: wait for one in progress, but do not hold the lock while rendering.
        async with self._capture_lock:
            pass
        loop = asyncio.get_running_loop()
        start = time.monotonic()
        position_um = float(self._position_um())
        jpeg = await loop.run_in_executor(
            self._preview_pool, self._render_jpeg, position_um, self._optics(), 75, "live view"
        )
        await asyncio.sleep(max(0.0, self._sim.preview_ms / 1000.0 - (time.monotonic() - start)))
        return jpeg

    async def get_settings(self) -> dict[str, Setting]:
        self._require_open()
        return self._settings.all()

    async def set_settings(self, values: dict[str, str]) -> None:
        self._require_open()
        self._settings.update(values)

    def _optics(self) -> Optics:
        return Optics(magnification=self._sim.magnification, aperture=self._settings.aperture)

    def _render_jpeg(self, position_um: float, optics: Optics, quality: int, what: str) -> bytes:
        focus_depth_um = position_um - self._sim.subject_near_um
        pixels = render(self.subject, optics, focus_depth_um)
        description = (
            f"{SIMULATED_MODEL}: simulated {what} at carriage {position_um:.1f} um, "
            f"magnification {optics.magnification:g}, f/{optics.aperture:g}, seed {self._sim.seed}"
        )
        return encode_jpeg(pixels, quality, description)

    async def _download(
        self,
        previous: asyncio.Future[Path | None] | None,
        download: asyncio.Future[Path | None],
        dest: Path,
        position_um: float,
        optics: Optics,
        quality: int,
        frame: int,
    ) -> None:
        loop = asyncio.get_running_loop()
        try:
            if previous is not None:  # keep downloads in capture order
                with contextlib.suppress(Exception):
                    await asyncio.shield(previous)
            start = time.monotonic()
            jpeg = await loop.run_in_executor(
                self._download_pool, self._render_jpeg, position_um, optics, quality, f"frame {frame}"
            )
            # The transfer takes download_ms; rendering is part of that time, not added to it.
            await asyncio.sleep(max(0.0, self._sim.download_ms / 1000.0 - (time.monotonic() - start)))
            await loop.run_in_executor(self._download_pool, write_atomic, dest, jpeg)
        except Exception as exc:  # delivered through the future
            if not download.done():
                download.set_exception(exc)
            return
        if not download.done():
            download.set_result(dest)

    def _require_open(self) -> None:
        if not self._connected:
            raise CameraUnavailable("the simulated camera is not open")

    def _publish_status(self) -> None:
        if self._events is not None:
            self._events.publish("camera:status", self.status())
