"""A wired shutter on the grbl board's flood coolant output (`camera.shutter_output =
"grbl_coolant"`): no GPIO on the host at all.

The coolant pin (A3 on an Uno CNC shield, "CoolEn") drives an optocoupler across the
camera's remote-release contacts (docs/hardware.md). `fire()` asks the drive for a
coolant pulse: M8, a G4 dwell of `shutter_pulse_ms`, M9, all in grbl's planner queue,
so the press starts only once the move before it has ended and its width is timed by
the board. Like the GPIO shutter, it cannot tell whether a frame was taken.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from raild.camera.errors import CameraUnavailable
from raild.config import Config
from raild.drives.protocol import DriveFault


@runtime_checkable
class CoolantOutput(Protocol):
    """What the shutter needs of the grbl drive."""

    async def coolant_pulse(self, pulse_ms: int) -> None: ...

    def status(self) -> dict[str, object]: ...


class GrblCoolantShutter:
    def __init__(self, config: Config, output: CoolantOutput) -> None:
        self._pulse_ms = config.camera.shutter_pulse_ms
        self._output = output
        self._open = False
        self.fired = 0

    @property
    def is_open(self) -> bool:
        return self._open and self._output.status().get("link") == "ready"

    async def open(self) -> None:
        self._open = True  # the drive owns the link; a lost one shows in is_open and fire()

    async def close(self) -> None:
        self._open = False

    async def fire(self) -> None:
        if not self._open:
            raise CameraUnavailable("the wired shutter is not open")
        try:
            await self._output.coolant_pulse(self._pulse_ms)
        except DriveFault as exc:
            raise CameraUnavailable(f"the shutter on grbl's coolant output did not fire: {exc}") from None
        self.fired += 1
