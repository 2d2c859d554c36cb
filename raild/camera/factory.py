"""Build the camera the config asks for, wired to the rig it belongs to."""

from __future__ import annotations

from typing import Any

from raild.camera.protocol import Camera
from raild.config import Config
from raild.events import EventBus


def create_camera(config: Config, hw: Any = None, sim: Any = None, events: EventBus | None = None) -> Camera:
    """`hw` is the `Hardware` (its gpiozero `factory` drives a wired shutter); `sim` the
    `SimRig` whose carriage the simulated camera looks from. Backends import lazily so a
    Pi without python-gphoto2 still runs the others."""
    backend = config.camera.backend
    if backend == "sim":
        from raild.camera.sim import SimCamera

        if sim is None:
            # No rig: a fixed carriage at the rig's start position (e.g. API tests).
            start_um = config.sim.start_position_um
            return SimCamera(config, position_um=lambda: start_um, on_exposure=None, events=events)
        return SimCamera(
            config,
            position_um=lambda: sim.rail.true_position_um,
            on_exposure=sim.record_capture,
            events=events,
        )
    if backend == "gpio":
        from raild.camera.wired import WiredCamera

        return WiredCamera(config, _pin_factory(hw), events=events)
    if backend == "gphoto2":
        from raild.camera.gphoto2_camera import Gphoto2Camera

        wired = None
        if config.camera.trigger == "wire":
            from raild.camera.wired import WiredShutter

            wired = WiredShutter(config, _pin_factory(hw))
        return Gphoto2Camera(config, events=events, wired=wired)
    raise ValueError(f"unknown camera backend {backend!r}")


def _pin_factory(hw: Any) -> Any:
    if hw is None or getattr(hw, "factory", None) is None:
        raise ValueError("a wired shutter needs the pigpio hardware connection (hw.factory)")
    return hw.factory
