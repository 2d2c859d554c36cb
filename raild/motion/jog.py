"""Hold-to-jog: continuous motion renewed by repeated requests, with a dead-man.

`request(direction, speed)` starts a jog or renews it and returns at once. The
jog runs as one task holding the rail (state "moving"); it decelerates to rest
when no request renews it within `rail.jog_deadman_ms` (a lost Wi-Fi link never
leaves the rail running), on `Rail.stop()`, and at the soft limit (planned as
the end of the jog, so it arrives there at rest). A request in the other
direction decelerates first, then jogs back. Before homing a jog is allowed at
up to the homing seek speed, bounded by the travel and guarded by the limit
switches.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Any

from raild.drives.protocol import DriveFault
from raild.motion.errors import EstopLatched, InvalidMove, MoveInterrupted, OutOfLimits, RailBusy

if TYPE_CHECKING:
    from raild.motion.ports import RailPort

log = logging.getLogger("raild.motion")


class Jogger:
    def __init__(self, rail: RailPort) -> None:
        self.rail = rail
        self._task: asyncio.Task[None] | None = None
        self._direction = 0
        self._next_direction = 0  # a reversal waiting for the rail to come to rest
        self._speed_um_s = 0.0
        self._deadman: asyncio.TimerHandle | None = None
        self.deadman_stops = 0

    @property
    def active(self) -> bool:
        return self._task is not None and not self._task.done()

    def _parse(self, direction: Any) -> int:
        if direction == "+":
            return 1
        if direction == "-":
            return -1
        raise InvalidMove(f'direction must be "+" or "-" (got {direction!r})')

    def _speed(self, speed_um_s: float | None) -> float:
        rail = self.rail
        homed_ok = rail.homed or not rail.config.has_home_switch
        cap = (
            rail.config.rail.max_speed_um_s
            if homed_ok
            else min(rail.config.rail.max_speed_um_s, rail.config.homing.seek_speed_um_s)
        )
        if speed_um_s is None:
            return cap
        speed = rail.checked_speed_um_s(speed_um_s)
        if speed > cap:
            raise InvalidMove(f"speed_um_s {speed:g} is above {cap:g}, the fastest jog before homing (seek speed)")
        return speed

    def _limit_steps(self, direction: int) -> int:
        rail = self.rail
        if rail.soft_limits_apply:
            lo, hi = rail.soft_limits_steps()
            room = hi - rail.position_steps if direction > 0 else rail.position_steps - lo
            return max(0, room)
        return rail.um_to_steps(rail.config.rail.travel_mm * 1000.0 * 1.1)  # unhomed: the switches guard the ends

    async def request(self, direction_text: Any, speed_um_s: float | None) -> dict[str, Any]:
        rail = self.rail
        direction = self._parse(direction_text)
        speed = self._speed(speed_um_s)
        rail.check_latches()
        if self.active:
            self._arm_deadman()
            if direction != self._direction:
                self._next_direction = direction
                self._speed_um_s = speed
                rail.drive.request_stop()
            elif self._next_direction not in (0, direction):
                self._next_direction = direction  # reversed again before coming to rest: keep going this way
            return rail.status()
        rail.check_ready()
        if self._limit_steps(direction) <= 0:
            lo_um, hi_um = rail.limits_um()
            raise OutOfLimits(f"the rail is at its {'max' if direction > 0 else 'min'} soft limit", lo_um, hi_um)
        self._direction = direction
        self._next_direction = 0
        self._speed_um_s = speed
        self._arm_deadman()
        started = asyncio.Event()
        self._task = asyncio.create_task(self._run(started), name="rail-jog")
        await started.wait()
        return rail.status()

    def _arm_deadman(self) -> None:
        if self._deadman is not None:
            self._deadman.cancel()
        loop = asyncio.get_running_loop()
        self._deadman = loop.call_later(self.rail.config.rail.jog_deadman_ms / 1000.0, self._deadman_fired)

    def _deadman_fired(self) -> None:
        self._deadman = None
        if self.active:
            self.deadman_stops += 1
            log.info("jog not renewed within %d ms: decelerating", self.rail.config.rail.jog_deadman_ms)
            self._next_direction = 0
            self.rail.drive.request_stop()

    def cancel(self) -> None:
        """A stop or e-stop: no reversal, no renewal."""
        self._next_direction = 0
        if self._deadman is not None:
            self._deadman.cancel()
            self._deadman = None

    async def _run(self, started: asyncio.Event) -> None:
        rail = self.rail
        try:
            async with rail.exclusive("moving"):
                started.set()
                while True:
                    if rail.stop_requested:
                        break
                    limit = self._limit_steps(self._direction)
                    if limit <= 0:
                        break
                    kin = rail.kinematics(self._speed_um_s)
                    rail.check_latches()
                    await rail.drive.enable()
                    rail.check_latches()  # an e-stop while enabling: the drive had no motion to halt yet
                    rail.motor_off_reason = None
                    result = await rail.drive.jog(
                        self._direction,
                        kin.max_speed_steps_s,
                        kin.accel_steps_s2,
                        kin.start_speed_steps_s,
                        limit,
                        rail.report_progress_steps,
                    )
                    rail.account_move(result)
                    if result.reason not in (None, "stop"):
                        raise MoveInterrupted(f"jog interrupted by {result.reason}")
                    if self._next_direction and not rail.stop_requested:
                        self._direction, self._next_direction = self._next_direction, 0
                        continue
                    break
        except (MoveInterrupted, RailBusy, EstopLatched) as exc:
            log.info("%s", exc)
        except DriveFault as exc:
            log.warning("%s", rail.drive_fault(exc))
        except Exception:
            log.exception("jog failed")
        finally:
            started.set()
            if self._deadman is not None:
                self._deadman.cancel()
                self._deadman = None
            with contextlib.suppress(Exception):
                rail.publish_status()
