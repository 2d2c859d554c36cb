"""A wired shutter: focus and shutter lines through optocouplers on GPIO.

`WiredShutter` pulses the lines through gpiozero on the pigpio pin factory (the
same pigpiod as the motor). The pulse sequence runs on a thread of its own
with blocking sleeps: the event loop never waits on it, and the pulse widths
do not depend on how busy the loop is. (Hardware-timed waves are not an
option: the wave engine belongs to the motor, and sending a wave would cancel
a move.) `WiredCamera` is the "gpio" backend: it fires and waits out the
exposure but cannot know whether a frame was taken, so its frames are
unconfirmed and never downloaded.
"""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Protocol

from gpiozero import DigitalOutputDevice

from raild.camera.errors import CameraUnavailable, Unsupported
from raild.camera.protocol import Capabilities, Capture, Setting, resolved_future
from raild.config import Config
from raild.events import EventBus


class Shutter(Protocol):
    """A wired shutter: GPIO lines here, or grbl's coolant output (camera/grbl_shutter.py)."""

    @property
    def is_open(self) -> bool: ...

    async def open(self) -> None: ...

    async def close(self) -> None: ...

    async def fire(self) -> None:
        """Press and release; returns after the release."""


class WiredShutter:
    def __init__(self, config: Config, pin_factory: Any) -> None:
        self._camera = config.camera
        self._pins = config.pins
        self._factory = pin_factory
        self._shutter: DigitalOutputDevice | None = None
        self._focus: DigitalOutputDevice | None = None
        self._executor: ThreadPoolExecutor | None = None
        self.fired = 0

    @property
    def is_open(self) -> bool:
        return self._shutter is not None

    async def open(self) -> None:
        if self._shutter is not None:
            return
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="wired-shutter")
        try:
            await asyncio.get_running_loop().run_in_executor(self._executor, self._open_outputs)
        except Exception as exc:
            self._executor.shutdown(wait=False)
            self._executor = None
            raise CameraUnavailable(f"cannot drive the shutter pins through pigpiod: {exc}") from exc

    def _open_outputs(self) -> None:
        def output(pin: int) -> DigitalOutputDevice:
            return DigitalOutputDevice(
                pin,
                active_high=self._pins.shutter_active_high,
                initial_value=False,
                pin_factory=self._factory,
            )

        self._shutter = output(self._pins.shutter)
        if self._pins.focus:
            self._focus = output(self._pins.focus)

    async def close(self) -> None:
        executor, self._executor = self._executor, None
        if executor is None:
            return
        await asyncio.get_running_loop().run_in_executor(executor, self._close_outputs)
        executor.shutdown(wait=False)

    def _close_outputs(self) -> None:
        for device in (self._shutter, self._focus):
            if device is not None:
                device.off()  # leave the lines released, not half-pressed
                device.close()
        self._shutter = self._focus = None

    async def fire(self) -> None:
        """Half-press for focus_ms, press for shutter_pulse_ms, release both. Returns after release."""
        if self._executor is None or self._shutter is None:
            raise CameraUnavailable("the wired shutter is not open")
        await asyncio.get_running_loop().run_in_executor(self._executor, self._pulse)

    def _pulse(self) -> None:
        shutter = self._shutter
        assert shutter is not None
        focus = self._focus
        try:
            if focus is not None:
                focus.on()
                # Cameras fire only while focus is held too, so it stays closed across the pulse.
                time.sleep(self._camera.focus_ms / 1000.0)
            shutter.on()
            time.sleep(self._camera.shutter_pulse_ms / 1000.0)
        finally:
            shutter.off()
            if focus is not None:
                focus.off()
        self.fired += 1


class WiredCamera:
    """Backend "gpio": a wired shutter alone. Frames are taken blind: unconfirmed, not downloaded."""

    backend = "gpio"
    capabilities = Capabilities(capture=True, confirm=False, download=False, preview=False, settings=False)

    def __init__(
        self, config: Config, pin_factory: Any, events: EventBus | None = None, shutter: Shutter | None = None
    ) -> None:
        self._shutter: Shutter = shutter if shutter is not None else WiredShutter(config, pin_factory)
        self._exposure_ms = config.camera.exposure_ms
        self._events = events
        self._lock = asyncio.Lock()

    @property
    def shutter(self) -> Shutter:
        return self._shutter

    async def open(self) -> None:
        await self._shutter.open()
        self._publish_status()

    async def close(self) -> None:
        async with self._lock:
            await self._shutter.close()
        self._publish_status()

    def status(self) -> dict[str, Any]:
        return {"backend": self.backend, "connected": self._shutter.is_open, "model": "wired shutter"}

    async def capture(self, dest: Path) -> Capture:
        async with self._lock:
            time_s = time.time()
            await self._shutter.fire()
            # Nothing tells us when the exposure ends; wait the configured time before moving on.
            await asyncio.sleep(self._exposure_ms / 1000.0)
        return Capture(confirmed=False, download=resolved_future(None), time_s=time_s)

    async def preview(self) -> bytes:
        raise Unsupported(
            "a wired shutter has no live view; use the camera's own screen, or connect it by USB "
            'and set camera.backend = "gphoto2" with camera.trigger = "wire"'
        )

    async def get_settings(self) -> dict[str, Setting]:
        raise Unsupported("a wired shutter cannot read camera settings; set them on the camera")

    async def set_settings(self, values: dict[str, str]) -> None:
        raise Unsupported("a wired shutter cannot change camera settings; set them on the camera")

    def _publish_status(self) -> None:
        if self._events is not None:
            self._events.publish("camera:status", self.status())
