"""The Drive seam's shapes, as the grbl drive implements them.

These mirror the shared sketch of `raild/drives/protocol.py` (Reason, MoveResult,
the Drive and HomingDrive protocols). When that module exists, these names are
imported from it instead and this file goes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

Reason = Literal["stop", "estop", "limit", "home_switch", "lost", "underrun"]
Side = Literal["min", "max"]


@dataclass(frozen=True)
class MoveResult:
    steps: int  # steps moved, signed (+ = towards max)
    reason: Reason | None  # None = the move completed
    exact: bool  # the count is known exactly


class DriveFault(Exception):
    """The drive cannot do what was asked; the message says why and what to do."""


@runtime_checkable
class HomingDrive(Protocol):
    async def home(self) -> MoveResult: ...


class Drive(Protocol):
    name: str
    motor_enabled: bool

    async def start(self) -> None: ...
    async def close(self) -> None: ...
    async def enable(self) -> None: ...
    async def disable(self) -> None: ...
    async def move(
        self, delta_steps: int, speed_steps_s: float, accel_steps_s2: float, progress: Callable[[int], None]
    ) -> MoveResult: ...
    async def jog(
        self,
        direction: int,
        speed_steps_s: float,
        accel_steps_s2: float,
        limit_steps: int | None,
        progress: Callable[[int], None],
    ) -> MoveResult: ...
    def request_stop(self) -> None: ...
    def halt_now(self, reason: Reason, disable: bool = False) -> None: ...
    async def switch_pressed(self, side: Side) -> bool: ...
    def on_switch(self, cb: Callable[[Side, bool], None]) -> None: ...
    def status(self) -> dict[str, object]: ...
