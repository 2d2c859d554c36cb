"""`RailPort`: the narrow face of the `Rail` that homing and jogging drive it through.

Homing (`homing.py`) and hold-to-jog (`jog.py`) are sequences of the Rail's own
moves; they need its checks, its lock, one straight move and its accounting, but
none of its internals. This Protocol names exactly that, so those modules never
reach into the Rail's private state and never import it (the Rail imports them).
`Rail` satisfies it structurally: mypy checks that where the Rail hands itself over.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol

from raild.config import Config
from raild.drives.protocol import Drive, DriveFault, MoveResult, Side
from raild.motion.errors import FaultLatched
from raild.motion.profile import Kinematics


class RailPort(Protocol):
    # what a homing cycle or a jog learns and settles about the rail
    position_steps: int
    position_known: bool
    homed: bool
    motor_off_reason: str | None

    @property
    def config(self) -> Config: ...

    @property
    def drive(self) -> Drive: ...

    @property
    def real_s_per_drive_s(self) -> float:
        """Wall-clock seconds per second of the drive's clock (1 on a Pi; an emulated
        pigpiod may run its clock at another rate), to scale time bounds."""
        ...

    @property
    def stop_requested(self) -> bool:
        """`stop()` was asked for during the current exclusive activity."""
        ...

    @property
    def soft_limits_apply(self) -> bool:
        """Homed with the position known: the soft limits bound every move."""
        ...

    # units and limits
    def um_to_steps(self, um: float) -> int: ...

    def steps_to_um(self, steps: int) -> float: ...

    def limits_um(self) -> tuple[float, float]: ...

    def soft_limits_steps(self) -> tuple[int, int]: ...

    def kinematics(self, speed_um_s: float) -> Kinematics: ...

    def checked_speed_um_s(self, speed_um_s: float) -> float:
        """The speed if this rail can run it, else `InvalidMove`."""
        ...

    # checks and the one lock
    def check_latches(self) -> None:
        """Raise if the link is down, the e-stop or a fault is latched."""
        ...

    def check_ready(self) -> None:
        """`check_latches()`, and raise `RailBusy` while anything holds the rail."""
        ...

    def exclusive(self, activity: str) -> AbstractAsyncContextManager[None]:
        """Hold the rail as `activity` ("moving" | "homing"); `RailBusy` if it is held."""
        ...

    # moving and accounting
    async def switch_pressed(self, side: Side) -> bool: ...

    async def move_steps(self, delta_steps: int, speed_um_s: float, home_side: Side | None = None) -> MoveResult:
        """One straight move, accounted; raises `MoveInterrupted` if cut short."""
        ...

    def report_progress_steps(self, moved_steps: int) -> None:
        """The drive's progress callback for a move or jog run directly on the drive."""
        ...

    def account_move(self, result: MoveResult) -> None:
        """Add a move run directly on the drive to the position (and latch what it tripped)."""
        ...

    # faults and status
    def latch_fault(self, code: str, message: str) -> None:
        """Latch a fault (until reset) and announce it."""
        ...

    def drive_fault(self, exc: DriveFault) -> FaultLatched: ...

    def publish_status(self) -> None: ...

    def status(self) -> dict[str, Any]: ...


__all__ = ["RailPort"]
