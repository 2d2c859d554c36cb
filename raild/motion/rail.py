"""`Rail`: the focusing rail as users see it, over one `Drive`.

Positions are integer microsteps inside (`position_steps`), µm at the edges.
The Rail turns requests into straight moves and jogs (units, soft limits, "must
home first", backlash legs, latches, homing) and hands each to its `Drive`
(`raild.drives`), which alone emits steps and says exactly how far they got.
The Rail never imports pigpio.

Driver enable: a disabled driver keeps its microstep index, so an idle
motor-off keeps `homed` and the position (`motor_off_reason` "idle");
`idle_off_forgets_position = true` restores the strict rule. An explicit
motor-off ("user") clears them: the carriage may then be turned by hand. The
e-stop and faults also disable the driver but keep what the halt determined.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from raild.config import Config
from raild.drives.factory import make_drive
from raild.drives.protocol import Drive, DriveFault, MoveResult, ReconnectingDrive, Side, UnlockableDrive
from raild.events import EventBus
from raild.motion import homing
from raild.motion.approach import approach_legs
from raild.motion.errors import (
    EstopLatched,
    FaultLatched,
    HardwareUnavailable,
    HomeSwitchFitted,
    HostFellBehind,
    InvalidMove,
    MoveInterrupted,
    NoHomeSwitch,
    NotHomed,
    OutOfLimits,
    RailBusy,
)
from raild.motion.jog import Jogger
from raild.motion.profile import Kinematics, ProfileError
from raild.motion.units import soft_limits_um

if TYPE_CHECKING:
    from raild.hw import Hardware

MIN_STEP_RATE_STEPS_S = 1.0  # slower moves are refused rather than planned

log = logging.getLogger("raild.motion")

ESTOP_ANSWER_S = 0.25  # the e-stop answer waits this long for the halt to be dated, else says "unknown"


class Rail:
    def __init__(self, config: Config, hw: Hardware | None, events: EventBus, drive: Drive | None = None) -> None:
        """`hw` is the pigpio `Hardware` (None for a drive that owns its own link, e.g. grbl);
        without a `drive` the pigpio drive is made on it."""
        self.config = config
        self.rc = config.rail
        self.pins = config.pins
        self.hw = hw
        self.events = events
        self.position_steps = 0
        self.position_known = False
        self.homed = False
        if drive is None:
            if hw is None:
                raise ValueError("the pigpio drive needs the pigpiod connection (hw)")
            drive = make_drive(config, hw)
        self.drive: Drive = drive
        self.motor_off_reason: str | None = None
        self._estop_unknown = False  # an e-stop answered "unknown": nothing may make it known again
        self._at_rest = asyncio.Event()
        self._at_rest.set()
        self.jogger = Jogger(self)
        self._activity: str | None = None  # "moving" | "homing"
        self._estop = False
        self._fault: dict[str, str] | None = None
        self._lock = asyncio.Lock()
        self._stop_requested = False
        self._live_steps: int | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._switches: dict[Side, bool] = {"min": False, "max": False}
        self._idle_timer: asyncio.TimerHandle | None = None
        self._idle_task: asyncio.Future[None] | None = None
        self._drive_lost: str | None = None  # the drive's own link went (grbl): reset reconnects

    @property
    def motor_enabled(self) -> bool:
        return bool(self.drive.motor_enabled)

    def _latch_kind(self) -> str | None:
        return "estop" if self._estop else ("fault" if self._fault is not None else None)

    # ----- units and limits -----
    def steps_to_um(self, steps: int) -> float:
        return steps * 1000.0 / self.rc.steps_per_mm

    def um_to_steps(self, um: float) -> int:
        return round(um * self.rc.steps_per_mm / 1000.0)

    def limits_um(self) -> tuple[float, float]:
        return soft_limits_um(self.config)

    def _limit_steps(self) -> tuple[int, int]:
        lo, hi = self.limits_um()
        spm = self.rc.steps_per_mm / 1000.0
        return math.ceil(lo * spm - 1e-9), math.floor(hi * spm + 1e-9)

    @property
    def _limits_apply(self) -> bool:
        return self.homed and self.position_known

    # ----- state -----
    @property
    def state(self) -> str:
        if self._estop:
            return "estop"
        if self._fault is not None:
            return "fault"
        return self._activity or "idle"

    def status(self) -> dict[str, Any]:
        lo, hi = self.limits_um()
        steps = self._live_steps if self._live_steps is not None else self.position_steps
        known = self.position_known
        drive = self.drive.status()
        link = {"link": drive["link"]} if "link" in drive else {}  # a drive with its own link (grbl)
        return {
            "state": self.state,
            "position_um": round(self.steps_to_um(steps), 4) if known else None,
            "position_steps": steps if known else None,
            "position_known": known,
            "homed": self.homed,
            "motor_enabled": self.motor_enabled,
            "limits": {"min_um": lo, "max_um": hi},
            "switches": dict(self._switches),
            "fault": dict(self._fault) if self._fault else None,
            "motor_off_reason": None if self.motor_enabled else self.motor_off_reason,
            "underruns": drive.get("underruns", 0),
            **link,
        }

    def _publish(self) -> None:
        self.events.publish("rail:status", self.status())

    # ----- start and stop -----
    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        await self.drive.start()
        self.drive.on_switch(self._on_switch)
        self.drive.on_lost(self._on_lost)
        if isinstance(self.drive, ReconnectingDrive):
            self.drive.on_restored(self._on_restored)
        for side in ("min", "max"):
            if self.pins.limit_pin(side):
                self._switches[side] = await self.drive.switch_pressed(side)
        self._publish()

    async def close(self) -> None:
        """Halt any motion and disable the driver (clean exit)."""
        if self._idle_timer is not None:
            self._idle_timer.cancel()
        self.jogger.cancel()
        await self.drive.close()

    async def switch_pressed(self, side: Side) -> bool:
        """Read the switch now (the notification's copy may lag a just-finished move)."""
        self._switches[side] = await self.drive.switch_pressed(side)
        return self._switches[side]

    def _on_switch(self, side: Side, tripped: bool) -> None:
        self._switches[side] = tripped
        self._publish()

    def _announce_fault(self) -> None:
        self.events.publish("rail:fault", {"fault": self._fault, "state": self.state})
        self._publish()

    def _on_lost(self, reason: str) -> None:
        if self.hw is None:  # the drive owns its link (grbl): raild's reset reconnects it
            self._drive_lost = reason
            # A fault latched before (a limit trip, an alarm) outlives the link: only a
            # drive_lost fault is cleared when the link comes back by itself.
            if self._fault is None or self._fault.get("code") == "drive_lost":
                self._fault = {"code": "drive_lost", "message": f"{self.drive.name} drive: {reason}"}
        else:
            self._fault = {"code": "pigpio_lost", "message": f"pigpiod connection lost: {reason}"}
        self.position_known = False
        self.homed = False
        self.motor_off_reason = "fault"
        if self.hw is None:
            self.events.publish("rail:link", {"link": "lost", "drive": self.drive.name, "message": reason})
        self._announce_fault()

    def _on_restored(self) -> None:
        """The drive reopened its lost link by itself and found its settings unchanged. The
        link fault ends; what it cost stays: the position is unknown until homed (or zeroed),
        and a board back in its alarm lock still wants homing or raild's reset."""
        self._drive_lost = None
        if self._fault is not None and self._fault.get("code") == "drive_lost":
            self._fault = None
        if self.motor_off_reason == "fault" and self._fault is None:
            self.motor_off_reason = None
        self.events.publish("rail:link", {"link": "ready", "drive": self.drive.name, "message": "link restored"})
        self._publish()

    def estop(self) -> dict[str, Any]:
        """Halt at once, disable the driver, latch `estop` until `reset()`."""
        self._estop = True
        self.motor_off_reason = "estop"
        self.drive.halt_now("estop", disable=True)
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._publish)
        return self.status()

    async def estop_answer(self) -> dict[str, Any]:
        """The e-stop's final answer: once the halted move has been accounted (a few ms),
        or, if that takes longer than ESTOP_ANSWER_S, `position_known: false` for good."""
        if not self._at_rest.is_set():
            try:
                await asyncio.wait_for(self._at_rest.wait(), ESTOP_ANSWER_S)
            except TimeoutError:
                self._estop_unknown = True
                self.position_known = False
                log.warning("the e-stop halt could not be dated in time; position unknown")
        return self.status()

    async def stop(self) -> dict[str, Any]:
        """Decelerate to rest at the configured acceleration, driver kept enabled, nothing
        latched; answers at rest with the position exact. A move cut short raises
        `MoveInterrupted("move stopped")` in its own caller."""
        if self._activity is not None or not self._at_rest.is_set():
            self._stop_requested = True
            self.jogger.cancel()
            self.drive.request_stop()
            await self._at_rest.wait()
        return self.status()

    def _link_problem(self) -> str | None:
        if self.hw is not None and not self.hw.connected:
            return f"pigpiod connection lost: {self.hw.lost_reason}"
        if self._drive_lost is not None:
            return f"{self.drive.name} drive: {self._drive_lost}; reconnecting by itself (or reset to retry now)"
        return None

    async def reset(self) -> dict[str, Any]:
        if self.hw is not None and not self.hw.connected:  # the daemon reconnects pigpiod
            raise HardwareUnavailable(f"pigpiod connection lost: {self.hw.lost_reason}")
        if self._activity is not None:
            raise RailBusy("the rail is moving")
        try:
            if self._drive_lost is not None:  # reconnect; the position stays unknown until homed
                await self.drive.start()
                self._drive_lost = None
            if isinstance(self.drive, UnlockableDrive):  # grbl's alarm lock ends only here ($X)
                await self.drive.unlock()
        except DriveFault as exc:
            raise HardwareUnavailable(f"{self.drive.name} drive: {exc}") from None
        self._estop = False
        self._fault = None
        self._publish()
        return self.status()

    async def home(self) -> dict[str, Any]:
        """Home on the configured switch (see homing.py)."""
        if not self.config.has_home_switch:  # refused before anything about the rail changes
            raise NoHomeSwitch('no home switch is configured ([homing] switch = "none"); use POST /api/v1/motion/zero')
        self._estop_unknown = False
        await homing.home(self)
        return self.status()

    def zero(self) -> dict[str, Any]:
        if self.config.has_home_switch:
            raise HomeSwitchFitted("this rail has a home switch: home it instead of zeroing")
        self._check_ready()
        self.position_steps = 0
        self.position_known = True
        self._estop_unknown = False
        self.homed = True
        self._publish()
        return self.status()

    async def set_motor(self, enabled: bool) -> dict[str, Any]:
        if self._activity is not None:
            raise RailBusy("the rail is moving")
        if enabled:
            self._check_latches()
            await self.drive.enable()
        else:
            await self._disable("user")
        self._publish()
        return self.status()

    async def _disable(self, reason: str) -> None:
        await self.drive.disable()
        self.motor_off_reason = reason
        forget = reason == "user" or (reason == "idle" and self.rc.idle_off_forgets_position)
        if forget and self.pins.enable:
            self.position_known = False
            self.homed = False

    def _arm_idle(self) -> None:
        if self._idle_timer is not None:
            self._idle_timer.cancel()
            self._idle_timer = None
        if self.rc.idle_disable_s > 0 and self.motor_enabled and self._loop is not None:
            self._idle_timer = self._loop.call_later(self.rc.idle_disable_s, self._idle_fire)

    def _idle_fire(self) -> None:
        self._idle_timer = None
        if self._activity is None and self.motor_enabled and self._link_problem() is None:

            async def off() -> None:
                with contextlib.suppress(Exception):
                    await self._disable("idle")
                    if self.rc.idle_off_forgets_position:
                        log.info("driver disabled after %.0f s idle; home again before moving", self.rc.idle_disable_s)
                    else:
                        log.info("driver disabled after %.0f s idle; position and homing kept", self.rc.idle_disable_s)
                    self._publish()

            self._idle_task = asyncio.ensure_future(off())

    # ----- checks -----
    def _check_latches(self) -> None:
        if problem := self._link_problem():
            raise HardwareUnavailable(problem)
        if self._estop:
            raise EstopLatched("e-stop is latched; reset first")
        if self._fault is not None:
            raise FaultLatched(f"{self._fault['message']}; reset first")

    def _check_ready(self) -> None:
        self._check_latches()
        if self._activity is not None or self._lock.locked():
            raise RailBusy(f"the rail is {self._activity or 'busy'}")

    def _check_target(self, target_steps: int) -> None:
        if self.config.has_home_switch and not self.homed:
            raise NotHomed()
        if self._limits_apply:
            lo, hi = self._limit_steps()
            if not lo <= target_steps <= hi:
                lo_um, hi_um = self.limits_um()
                raise OutOfLimits(
                    f"{self.steps_to_um(target_steps):g} µm is outside the soft limits {lo_um:g}..{hi_um:g} µm",
                    lo_um,
                    hi_um,
                )

    def _speed(self, speed_um_s: float | None) -> float:
        if speed_um_s is None:
            return self.rc.max_speed_um_s
        if not (isinstance(speed_um_s, int | float) and math.isfinite(speed_um_s) and speed_um_s > 0):
            raise InvalidMove(f"speed_um_s must be a positive number (got {speed_um_s!r})")
        if speed_um_s > self.rc.max_speed_um_s:
            raise InvalidMove(f"speed_um_s {speed_um_s:g} is above max_speed_um_s {self.rc.max_speed_um_s:g}")
        # Checked here, in floating point, before any step interval is computed: a
        # vanishing speed would overflow the integer µs arithmetic of the profile.
        slowest_um_s = MIN_STEP_RATE_STEPS_S * self.rc.um_per_step
        if speed_um_s < slowest_um_s:
            raise InvalidMove(
                f"speed_um_s {speed_um_s:g} is below the slowest speed this rail steps at, "
                f"{slowest_um_s:g} µm/s (one microstep per second)"
            )
        return float(speed_um_s)

    def _target_from_um(self, um: float) -> int:
        if not (isinstance(um, int | float) and math.isfinite(um)):
            raise InvalidMove(f"a position must be a finite number of µm (got {um!r})")
        if abs(um) > 1e9:
            raise InvalidMove(f"{um!r} µm is not a position on this rail")
        return self.um_to_steps(um)

    # ----- moves -----
    async def move_to_um(self, um: float, speed_um_s: float | None = None, approach: bool = True) -> dict[str, Any]:
        return await self.move_to_steps(self._target_from_um(um), speed_um_s, approach)

    async def move_by_um(self, um: float, speed_um_s: float | None = None, approach: bool = True) -> dict[str, Any]:
        delta = self._target_from_um(um)
        return await self.move_to_steps(self.position_steps + delta, speed_um_s, approach)

    def start_move_to_um(self, um: float, speed_um_s: float | None = None, approach: bool = True) -> asyncio.Task[Any]:
        """Validate now (raising at once), then run the move as a task."""
        target = self._target_from_um(um)
        self._speed(speed_um_s)
        self._check_ready()
        self._check_target(target)
        return asyncio.create_task(self.move_to_steps(target, speed_um_s, approach), name="rail-move")

    async def move_to_steps(
        self, target_steps: int, speed_um_s: float | None = None, approach: bool = True
    ) -> dict[str, Any]:
        speed = self._speed(speed_um_s)
        self._check_ready()
        self._check_target(int(target_steps))
        async with self._exclusive("moving"):
            lo, hi = self._limit_steps() if self._limits_apply else (None, None)
            legs = [int(target_steps)]
            if approach:
                side = 1 if self.rc.approach == "positive" else -1
                legs = approach_legs(
                    self.position_steps, int(target_steps), side, self.um_to_steps(self.rc.backlash_um), lo, hi
                )
            for leg in legs:
                await self._move_steps(leg - self.position_steps, speed)
                if self._stop_requested:  # the stop came too late to shorten this leg: skip the rest
                    raise MoveInterrupted("move stopped")
        return self.status()

    @contextlib.asynccontextmanager
    async def _exclusive(self, activity: str) -> AsyncIterator[None]:
        if self._lock.locked():
            raise RailBusy(f"the rail is {self._activity or 'busy'}")
        async with self._lock:
            self._activity = activity
            self._stop_requested = False
            self._at_rest.clear()
            self._publish()
            try:
                yield
            finally:
                self._activity = None
                self._live_steps = None
                self._stop_requested = False
                self._at_rest.set()
                self._publish()
                self._arm_idle()

    def kinematics(self, speed_um_s: float) -> Kinematics:
        spm = self.rc.steps_per_mm / 1000.0
        v = speed_um_s * spm
        return Kinematics(v, self.rc.accel_um_s2 * spm, min(self.rc.start_speed_um_s * spm, v))

    async def _move_steps(self, delta: int, speed_um_s: float, home_side: Side | None = None) -> MoveResult:
        """Run one straight move and account for it; raises MoveInterrupted if cut short."""
        if delta == 0:
            return MoveResult(0, None, True)
        self._check_latches()
        kin = self.kinematics(speed_um_s)
        await self.drive.enable()
        self._check_latches()  # an e-stop while enabling: the drive had no motion to halt yet
        self.motor_off_reason = None
        try:
            result = await self.drive.move(
                delta, kin.max_speed_steps_s, kin.accel_steps_s2, kin.start_speed_steps_s, self._progress, home_side
            )
        except ProfileError as exc:
            raise InvalidMove(str(exc)) from exc
        except DriveFault as exc:
            raise self.drive_fault(exc) from None
        self._account(result)
        if result.reason in (None, "home_switch"):
            return result
        if result.reason == "lost":
            what = "pigpiod connection" if self.hw is not None else f"{self.drive.name} drive's link"
            raise HardwareUnavailable(f"{what} lost during the move")
        if result.reason == "stop":
            raise MoveInterrupted("move stopped")
        if result.reason == "underrun":  # only ever inexact here: a continued underrun is not returned
            raise HostFellBehind(
                "the host fell behind while streaming steps; the motor may have stalled: position unknown, home again"
            )
        raise MoveInterrupted(f"move interrupted by {result.reason}")

    def _progress(self, moved_steps: int) -> None:
        self._live_steps = self.position_steps + moved_steps
        self._publish()

    def _account(self, result: MoveResult) -> None:
        self.position_steps += result.steps
        if not result.exact or self._estop_unknown:
            self.position_known = False
            if self.config.has_home_switch:
                self.homed = False
        if result.reason == "lost" and self.hw is None and self._fault is None:
            self._on_lost("the link was lost during a move; home once it is back")
        if result.reason == "limit" and self._fault is None:
            self._fault = {"code": "limit", "message": "a limit switch tripped during a move"}
            self.homed = False
            self.motor_off_reason = "fault"
            self._announce_fault()

    def drive_fault(self, exc: DriveFault) -> FaultLatched:
        """A drive that refused or failed a command (grbl `error:N`, an alarm): latched until reset."""
        message = f"{self.drive.name} drive: {exc}"
        if self._fault is None:
            self._fault = {"code": "drive_fault", "message": message}
            self.motor_off_reason = self.motor_off_reason or "fault"
            self._announce_fault()
        return FaultLatched(f"{message}; reset first")

    # ----- jog (see jog.py) -----
    async def jog(self, direction: str, speed_um_s: float | None = None) -> dict[str, Any]:
        """Start or renew a hold-to-jog; returns at once (see `Jogger`)."""
        return await self.jogger.request(direction, speed_um_s)

    # ----- the narrow face homing and jog use (`RailPort`, see ports.py) -----
    @property
    def real_s_per_drive_s(self) -> float:
        return 1e6 / self.hw.tick_rate_hz if self.hw is not None else 1.0

    @property
    def stop_requested(self) -> bool:
        return self._stop_requested

    @property
    def soft_limits_apply(self) -> bool:
        return self._limits_apply

    def soft_limits_steps(self) -> tuple[int, int]:
        return self._limit_steps()

    def checked_speed_um_s(self, speed_um_s: float) -> float:
        return self._speed(speed_um_s)

    def check_latches(self) -> None:
        self._check_latches()

    def check_ready(self) -> None:
        self._check_ready()

    def exclusive(self, activity: str) -> contextlib.AbstractAsyncContextManager[None]:
        return self._exclusive(activity)

    async def move_steps(self, delta_steps: int, speed_um_s: float, home_side: Side | None = None) -> MoveResult:
        return await self._move_steps(delta_steps, speed_um_s, home_side)

    def report_progress_steps(self, moved_steps: int) -> None:
        self._progress(moved_steps)

    def account_move(self, result: MoveResult) -> None:
        self._account(result)

    def latch_fault(self, code: str, message: str) -> None:
        self._fault = {"code": code, "message": message}
        self._announce_fault()

    def publish_status(self) -> None:
        self._publish()


__all__ = ["Rail"]
