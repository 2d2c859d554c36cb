"""Rail commands from a person or script (the motion routes, the focus scan, the buttons)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from raild.background import start_checked
from raild.hw.errors import HardwareUnavailable
from raild.motion.errors import PositionUnknown
from raild.stacks.errors import StackRunning

if TYPE_CHECKING:
    from raild.daemon import Daemon
    from raild.motion import Rail

MOVE_ADVICE = "pause or cancel it before moving the rail (stop and e-stop always work)"


def rail_of(daemon: Daemon) -> Rail:
    """The rail, or 503 with the reason it is not there."""
    if daemon.rail is None:
        raise HardwareUnavailable(daemon.hardware_problem())
    return daemon.rail


def manual_rail(daemon: Daemon, advice: str = MOVE_ADVICE) -> Rail:
    """The rail for a command from a person or script: refused while a stack drives it."""
    rail = rail_of(daemon)
    running = daemon.stacks.active_stack_id() if daemon.stacks is not None else None
    if running is not None:
        raise StackRunning(running, advice)
    return rail


def target_um(rail: Rail, to_um: float | None, by_um: float | None) -> float:
    """Where a move goes: `to_um`, or `by_um` from the current position (which must be known)."""
    if to_um is not None:
        return to_um
    if by_um is None:
        raise ValueError("give exactly one of to_um or by_um")
    if not rail.position_known:
        raise PositionUnknown("the position is unknown; home or zero the rail first")
    return rail.steps_to_um(rail.position_steps) + by_um


async def move(
    rail: Rail, to_um: float | None, by_um: float | None, speed_um_s: float | None, wait: bool
) -> tuple[float, bool]:
    """Move to a target, or start the move and return once it is under way (a refusal
    still raises). Returns the target and whether the move is done."""
    target = target_um(rail, to_um, by_um)
    if wait:
        await rail.move_to_um(target, speed_um_s=speed_um_s)
        return target, True
    await start_checked(rail.start_move_to_um(target, speed_um_s=speed_um_s), "api-move")
    return target, False


async def home(rail: Rail) -> None:
    """Start homing; a refusal (no home switch, busy, e-stop) raises before it starts."""
    await start_checked(rail.home(), "api-home")
