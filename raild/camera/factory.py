"""Build the camera the config asks for, wired to the rig it belongs to."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from raild.camera.protocol import Camera
from raild.config import Config
from raild.events import EventBus

if TYPE_CHECKING:
    from raild.camera.wired import Shutter
    from raild.drives.protocol import Drive


class TrueRail(Protocol):
    @property
    def true_position_um(self) -> float: ...


class PinSource(Protocol):
    """What a wired shutter needs of the hardware connection (`raild.hw.Hardware`)."""

    @property
    def factory(self) -> Any: ...  # gpiozero's pin factory (untyped library); None until connected


class SimCarriage(Protocol):
    """What the simulated camera needs of a virtual rig (`SimRig` or `GrblSim`)."""

    @property
    def rail(self) -> TrueRail: ...

    def record_capture(self, label: str) -> object: ...


def create_camera(
    config: Config,
    hw: PinSource | None = None,
    sim: SimCarriage | None = None,
    events: EventBus | None = None,
    drive: Drive | None = None,
) -> Camera:
    """`hw` is the `Hardware` (its gpiozero `factory` drives a wired shutter; None with the
    grbl drive: gpiozero's default factory); `sim` the virtual rig whose carriage the
    simulated camera looks from. Backends import lazily so a
    Pi without python-gphoto2 still runs the others. `drive` is the grbl drive, whose
    coolant output fires a wired shutter with `camera.shutter_output = "grbl_coolant"`."""
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

        if config.camera.shutter_output == "grbl_coolant":
            return WiredCamera(config, None, events=events, shutter=_coolant_shutter(config, drive))
        return WiredCamera(config, _pin_factory(config, hw, sim), events=events)
    if backend == "gphoto2":
        from raild.camera.gphoto2_camera import Gphoto2Camera

        wired = None
        if config.camera.trigger == "wire" and config.camera.shutter_output == "grbl_coolant":
            wired = _coolant_shutter(config, drive)
        elif config.camera.trigger == "wire":
            from raild.camera.wired import WiredShutter

            wired = WiredShutter(config, _pin_factory(config, hw, sim))
        return Gphoto2Camera(config, events=events, wired=wired)
    raise ValueError(f"unknown camera backend {backend!r}")


def _pin_factory(config: Config, hw: PinSource | None, sim: SimCarriage | None) -> Any:
    if hw is not None and hw.factory is not None:
        return hw.factory
    if config.drive.backend == "grbl":
        if sim is not None:
            raise ValueError("a wired shutter is not simulated with the grbl drive in --sim; use camera backend 'sim'")
        return None  # gpiozero's default pin factory (lgpio on a Pi 5)
    raise ValueError("a wired shutter needs the pigpio hardware connection (hw.factory)")


def _coolant_shutter(config: Config, drive: Drive | None) -> Shutter:
    from raild.camera.grbl_shutter import CoolantOutput, GrblCoolantShutter

    if not isinstance(drive, CoolantOutput):
        raise ValueError("camera.shutter_output = 'grbl_coolant' needs the grbl drive connected")
    return GrblCoolantShutter(config, drive)
