"""Homing on the configured switch: fast seek, back off, slow approach, zero, pull off.

Zero is where the switch tripped on the slow approach, dated by the switch
notification's tick against the drive's step timeline, so it repeats to the
step however late the (decelerated) stop came. A switch already pressed at the start is backed
off first. Every phase is bounded in distance, and the whole in time.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, NoReturn

from raild.drives.protocol import DriveFault, HomingDrive
from raild.motion.errors import HomingFailed, HostFellBehind, MoveInterrupted

if TYPE_CHECKING:
    from raild.drives.protocol import Side
    from raild.motion.ports import RailPort

log = logging.getLogger("raild.motion")

APPROACH_TRIES = 3
LATE_HOST_TRIES = 3  # homing starts over after a host that fell behind (the position was unknown anyway)
BACKOFF_TRIES = 3


async def home(rail: RailPort) -> None:
    hc = rail.config.homing
    rail.check_ready()
    if isinstance(rail.drive, HomingDrive):
        await _home_on_controller(rail, rail.drive)
        return
    scale = rail.real_s_per_drive_s  # 1 on a Pi
    async with rail.exclusive("homing"):
        rail.homed = False
        try:
            async with asyncio.timeout(hc.timeout_s * scale):
                await _home_despite_a_late_host(rail)
        except TimeoutError:
            rail.drive.halt_now("stop")
            message = f"homing took longer than {hc.timeout_s:g} s"
            rail.latch_fault("homing_timeout", message)
            raise HomingFailed(message) from None


async def _home_on_controller(rail: RailPort, drive: HomingDrive) -> None:
    """The controller homes on its own switches (grbl `$H`, timed by the board against
    `[homing] timeout_s`). A stop aborts its cycle: the position is then unknown."""
    async with rail.exclusive("homing"):
        rail.homed = False
        await drive.enable()
        rail.check_latches()  # an e-stop while the board woke: the drive had no cycle to halt yet
        rail.motor_off_reason = None
        if rail.stop_requested:  # stopped before the cycle began (drive.home() marks itself busy at once)
            raise MoveInterrupted("homing stopped")
        try:
            result = await drive.home()
        except DriveFault as exc:
            rail.position_known = False
            _fail(rail, f"{drive.name} homing failed: {exc}")
        if result.reason is not None or not result.exact:
            rail.position_known = False
            raise MoveInterrupted(f"homing interrupted by {result.reason or 'an undated stop'}")
        rail.position_steps = rail.um_to_steps(rail.config.homing.home_position_um) + result.steps
        rail.position_known = True
        rail.homed = True
        await _pull_off(rail)


async def _home_despite_a_late_host(rail: RailPort) -> None:
    """Homing exists to find an unknown position, so a phase the drive gave up because the host
    fell behind (`HostFellBehind`) costs nothing but time: start over, a few times at most."""
    for attempt in range(1, LATE_HOST_TRIES + 1):
        try:
            await _home(rail)
            return
        except HostFellBehind as exc:
            rail.position_known = False
            if rail.stop_requested:  # a stop whose deceleration went out late is still a stop
                raise MoveInterrupted("homing stopped") from exc
            if attempt == LATE_HOST_TRIES:
                raise
            log.warning("homing starts over: %s", exc)


async def _home(rail: RailPort) -> None:
    hc = rail.config.homing
    toward = -1 if hc.switch == "min" else 1
    side: Side = "min" if hc.switch == "min" else "max"
    backoff = rail.um_to_steps(hc.backoff_um)
    travel = rail.um_to_steps(rail.config.rail.travel_mm * 1000.0)
    if await rail.switch_pressed(side):
        await _back_off(rail, side, -toward, backoff, hc.seek_speed_um_s)
    seek = await rail.move_steps(toward * (travel + 2 * backoff), hc.seek_speed_um_s, side)
    if seek.reason != "home_switch":
        _fail(rail, f"the {hc.switch} switch was not found within {rail.steps_to_um(travel + 2 * backoff):g} µm")
    # the seek ran on past the switch while the halt travelled; back off that much more
    overtravel = abs(seek.steps) - abs(seek.trip_steps) if seek.exact and seek.trip_steps is not None else 0
    for _ in range(APPROACH_TRIES):
        await _back_off(rail, side, -toward, backoff + overtravel, hc.seek_speed_um_s)
        overtravel = 0
        result = await rail.move_steps(toward * 2 * backoff, hc.approach_speed_um_s, side)
        if result.reason != "home_switch" or result.trip_steps is None:
            _fail(rail, f"the {hc.switch} switch did not trip again on the slow approach")
        if result.exact:
            past_trip = abs(result.steps) - abs(result.trip_steps)
            rail.position_steps = rail.um_to_steps(hc.home_position_um) + toward * past_trip
            rail.position_known = True
            rail.homed = True
            await _pull_off(rail)
            return
    _fail(rail, "the stop after the switch could not be dated; check the switch wiring for bounce")


async def _back_off(rail: RailPort, side: Side, away: int, backoff_steps: int, speed_um_s: float) -> None:
    """Move away until the switch is released (a few back-offs at most)."""
    for _ in range(BACKOFF_TRIES):
        result = await rail.move_steps(away * backoff_steps, speed_um_s)
        if result.reason is not None:
            raise MoveInterrupted(f"homing back-off interrupted by {result.reason}")
        if not await rail.switch_pressed(side):
            return
    _fail(
        rail, f"the switch is still pressed after backing off {BACKOFF_TRIES} × {rail.steps_to_um(backoff_steps):g} µm"
    )


async def _pull_off(rail: RailPort) -> None:
    """End inside the soft limits, clear of the switch, so the rail is usable at once
    (a jog or "set start here" right after homing is not refused as out of limits)."""
    lo, hi = rail.soft_limits_steps()
    target = min(max(rail.position_steps, lo), hi)
    if target == rail.position_steps:
        return
    result = await rail.move_steps(target - rail.position_steps, rail.config.homing.approach_speed_um_s)
    if result.reason is not None:
        raise MoveInterrupted(f"pull-off after homing interrupted by {result.reason}")


def _fail(rail: RailPort, message: str) -> NoReturn:
    rail.latch_fault("homing_failed", message)
    raise HomingFailed(message)
