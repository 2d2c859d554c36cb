"""Backend "gphoto2": a camera on USB, optionally fired by a wired shutter.

All camera calls run on one `CameraWorker` thread owning the `Gphoto2Session`.
`capture` returns once the camera has confirmed the exposure; the transfer to
the Pi is queued behind it on the same thread and written (atomically, in
capture order) while the rail moves on. With `camera.trigger = "wire"` the
shutter is released by wire and the USB connection confirms and downloads.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

from raild.atomic import write_atomic
from raild.camera.errors import CameraError, CaptureFailed, Unsupported
from raild.camera.gphoto2_session import CameraFile, Gphoto2Session
from raild.camera.protocol import Capabilities, Capture, Setting
from raild.camera.wired import Shutter
from raild.camera.worker import PRIORITY_CAPTURE, PRIORITY_PREVIEW, PRIORITY_SETTINGS, CameraWorker
from raild.config import Config
from raild.events import EventBus
from raild.logs import log_event

log = logging.getLogger("raild.camera.gphoto2")
T = TypeVar("T")
CLOSE_WAIT_S = 30.0  # how long close() lets queued downloads finish


class Gphoto2Camera:
    backend = "gphoto2"

    def __init__(
        self,
        config: Config,
        events: EventBus | None = None,
        wired: Shutter | None = None,
        session: Gphoto2Session | None = None,
    ) -> None:
        self._config = config.camera
        self._events = events
        self._wired = wired
        self.capabilities = Capabilities(capture=True, confirm=True, download=True, preview=True, settings=True)
        self.worker = CameraWorker("gphoto2-camera")
        self.session = (
            session if session is not None else Gphoto2Session(config.camera, on_connection=self._on_connection)
        )
        self._capture_lock = asyncio.Lock()
        self._last_write: asyncio.Future[Path | None] | None = None
        self._downloads: set[asyncio.Task[None]] = set()

    # --- lifecycle ----------------------------------------------------------------
    async def open(self) -> None:
        """Start the worker and try to connect. A missing camera is not fatal: every
        later call tries again, so the daemon runs and says what is wrong."""
        self.worker.start()
        if self._wired is not None:
            await self._wired.open()
        try:
            await self.worker.run(self.session.connect)
        except CameraError as exc:
            log_event(log, "camera not connected", logging.WARNING, reason=exc.message)

    async def close(self) -> None:
        if self._downloads:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.gather(*self._downloads, return_exceptions=True), CLOSE_WAIT_S)
        await self.worker.stop(final=self.session.close)
        if self._wired is not None:
            await self._wired.close()

    def status(self) -> dict[str, Any]:
        return {"backend": self.backend, "connected": self.session.connected, "model": self.session.model}

    # --- capture ------------------------------------------------------------------
    async def capture(self, dest: Path) -> Capture:
        dest = Path(dest)
        async with self._capture_lock:
            time_s = time.time()
            timeout_s = self._config.capture_timeout_s
            if self._wired is not None:
                files = await self._capture_by_wire(timeout_s)
            else:
                files = await self._shoot(timeout_s)
            download = self._queue_download(files, dest)
        return Capture(
            confirmed=True,
            download=download,
            camera_file=files[0].path,
            time_s=time_s,
            info={"camera_files": [f.path for f in files]},
        )

    async def _shoot(self, timeout_s: float) -> list[CameraFile]:
        """Capture by the session's plan (raild.camera.brands): capture-and-download, or
        trigger and wait for the file event. A Sony body may need a reconnect after a
        time-out (a failed focus can reset it)."""
        plan = self.session.plan
        wait_s = timeout_s + (plan.focus_wait_s if plan is not None else 0.0)
        # A triggered shot ends its own wait for the file; the extra 5 s only catches a hang.
        mode = plan.mode if plan is not None else self._config.capture_mode  # no plan before a connect
        guard_s = wait_s if mode == "download" else wait_s + 5
        try:
            files: list[CameraFile] = await self._timed(lambda: self.session.shoot(timeout_s), guard_s)
        except CaptureFailed:
            await self._reconnect_if_planned()
            raise
        if not files:
            await self._reconnect_if_planned()
            raise CaptureFailed(
                f"the camera took no picture within {wait_s:g} s of the trigger "
                "(camera.capture_timeout_s); check that autofocus can lock or use manual focus"
            )
        return files

    async def _reconnect_if_planned(self) -> None:
        plan = self.session.plan
        if plan is not None and plan.reconnect_after_timeout:
            log_event(log, "reconnecting after a capture time-out", logging.WARNING)
            await self.worker.run(self.session.drop)

    async def _capture_by_wire(self, timeout_s: float) -> list[CameraFile]:
        assert self._wired is not None
        await self.worker.run(self.session.drain_events)
        await self._wired.fire()
        files = await self._timed(lambda: self.session.wait_for_files(timeout_s), timeout_s + 5)
        if not files:
            raise CaptureFailed(
                f"the wired shutter fired but the camera reported no new file within {timeout_s:g} s: "
                "check the release cable and the pins.shutter/pins.focus wiring, that the camera is "
                "awake, and that autofocus is not waiting to lock (use manual focus)"
            )
        return files

    async def _timed(self, fn: Any, timeout_s: float) -> Any:
        job = self.worker.submit(fn, PRIORITY_CAPTURE)
        # If we stop waiting, the call still ends some time; its outcome is of no more use.
        job.add_done_callback(lambda f: f.cancelled() or f.exception())
        try:
            return await asyncio.wait_for(asyncio.shield(job), timeout_s)
        except TimeoutError:
            raise CaptureFailed(
                f"the camera did not answer within {timeout_s:g} s (camera.capture_timeout_s)"
            ) from None

    def _queue_download(self, files: list[CameraFile], dest: Path) -> asyncio.Future[Path | None]:
        """Fetch jobs go on the worker now (so they run before the next capture); the files
        are written in capture order. RAW+JPEG twins land beside `dest` with their own suffix."""
        delete = self._config.delete_after_download
        targets = [dest] + [dest.with_suffix(Path(f.name).suffix.lower()) for f in files[1:]]
        fetches = [self.worker.submit(functools.partial(self.session.fetch, f, delete)) for f in files]
        loop = asyncio.get_running_loop()
        done: asyncio.Future[Path | None] = loop.create_future()
        previous, self._last_write = self._last_write, done

        async def finish() -> None:
            try:
                results = await asyncio.gather(*fetches, return_exceptions=True)
                for result in results:
                    if isinstance(result, BaseException):
                        raise result
                blobs = [r for r in results if isinstance(r, bytes)]
                if previous is not None:
                    with contextlib.suppress(Exception):
                        await asyncio.shield(previous)
                for target, blob in zip(targets, blobs, strict=True):
                    await loop.run_in_executor(None, write_atomic, target, blob)
            except Exception as exc:
                if not done.done():
                    done.set_exception(exc)
                return
            if not done.done():
                done.set_result(dest)

        task = asyncio.create_task(finish())
        self._downloads.add(task)
        task.add_done_callback(self._downloads.discard)
        return done

    # --- live view and settings ---------------------------------------------------
    async def preview(self) -> bytes:
        try:
            return await self.worker.run(self.session.preview, PRIORITY_PREVIEW)
        except Unsupported:
            self.capabilities = replace(self.capabilities, preview=False)
            raise

    async def get_settings(self) -> dict[str, Setting]:
        return await self.worker.run(self.session.read_settings, PRIORITY_SETTINGS)

    async def set_settings(self, values: dict[str, str]) -> None:
        await self.worker.run(lambda: self.session.write_settings(values), PRIORITY_SETTINGS)

    def _on_connection(self, connected: bool) -> None:
        if self._events is not None:
            self._events.publish_threadsafe("camera:status", self.status())
