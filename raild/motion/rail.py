"""`Rail`: the focusing rail as users see it, over the one pigpio connection.

Positions are integer microsteps inside (`position_steps`), µm at the edges.
The Rail turns requests into straight moves (units, soft limits, "must home
first", backlash legs, latches, homing) and hands each to its `Stepper`, which
alone runs programs on pigpio's wave engine and says how far they got.

Driver enable: a disabled driver lets the carriage be turned by hand, so an
explicit or idle disable clears `homed` and `position_known` (the safe choice;
`idle_disable_s = 0` keeps the motor powered and the position known). The
e-stop and faults also disable the driver but keep what the halt analysis
determined: the driver keeps its microstep index while disabled.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import AsyncIterator, Callable
from typing import Any

import pigpio

from raild.config import Config
from raild.events import EventBus
from raild.motion.approach import approach_legs
from raild.motion.errors import (
    EstopLatched,
    FaultLatched,
    HardwareUnavailable,
    HomeSwitchFitted,
    InvalidMove,
    MoveInterrupted,
    NotHomed,
    OutOfLimits,
    RailBusy,
)
from raild.motion.profile import Kinematics, ProfileError, plan_profile
from raild.motion.program import ProgramError, WaveProgram, compile_program
from raild.motion.stepper import RunResult, Stepper

MIN_STEP_RATE_STEPS_S = 1.0  # slower moves are refused rather than planned

log = logging.getLogger("raild.motion")

SPEED_BACKOFF = 0.9  # cruise speed factor per try when a move's ramps do not fit pigpio
SWITCH_CLEARANCE_UM = 10.0  # moves stay this far inside a fitted limit switch


class Rail:
    def __init__(self, config: Config, hw: Any, events: EventBus) -> None:
        self.config = config
        self.rc = config.rail
        self.pins = config.pins
        self.hw = hw
        self.events = events
        self.position_steps = 0
        self.position_known = False
        self.homed = False
        self.stepper = Stepper(config, hw, self._latch_kind)
        self._activity: str | None = None  # "moving" | "homing"
        self._estop = False
        self._fault: dict[str, str] | None = None
        self._lock = asyncio.Lock()
        self._stop_requested = False
        self._live_steps: int | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._switches = {"min": False, "max": False}
        self._callbacks: list[Any] = []
        self._idle_timer: asyncio.TimerHandle | None = None
        self._idle_task: asyncio.Future[None] | None = None
        self._slowed_logged: set[float] = set()

    @property
    def motor_enabled(self) -> bool:
        return bool(self.stepper.motor_enabled)

    def _latch_kind(self) -> str | None:
        return "estop" if self._estop else ("fault" if self._fault is not None else None)

    # ----- units and limits -----
    def steps_to_um(self, steps: int) -> float:
        return steps * 1000.0 / self.rc.steps_per_mm

    def um_to_steps(self, um: float) -> int:
        return round(um * self.rc.steps_per_mm / 1000.0)

    def limits_um(self) -> tuple[float, float]:
        lo, hi = self.rc.soft_min_um, self.rc.soft_max
        if self.pins.limit_min:
            lo = max(lo, SWITCH_CLEARANCE_UM)
        if self.pins.limit_max:
            hi = min(hi, self.rc.travel_mm * 1000.0 - SWITCH_CLEARANCE_UM)
        return lo, hi

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
        }

    def _publish(self) -> None:
        self.events.publish("rail:status", self.status())

    # ----- start and stop -----
    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        pi, p = self.hw.pi, self.pins
        await self.hw.call(self._setup_pins)
        self.hw.on_lost(self._on_lost)
        self.stepper.attach()
        for side in ("min", "max"):
            pin = p.limit_pin(side)
            if pin:
                self._switches[side] = self._tripped(await self.hw.call(pi.read, pin))
                self._callbacks.append(pi.callback(pin, pigpio.EITHER_EDGE, self._limit_cb(side)))
        self._publish()

    def _setup_pins(self) -> None:
        pi, p = self.hw.pi, self.pins
        pi.wave_tx_stop()
        pi.wave_clear()
        for pin in (p.step, p.dir):
            pi.set_mode(pin, pigpio.OUTPUT)
        pi.write(p.step, 0)
        if p.enable:
            pi.set_mode(p.enable, pigpio.OUTPUT)
            pi.write(p.enable, self.stepper.en_level(False))
        pull = {"up": pigpio.PUD_UP, "down": pigpio.PUD_DOWN, "off": pigpio.PUD_OFF}[p.limit_pull]
        for pin in (p.limit_min, p.limit_max):
            if pin:
                pi.set_mode(pin, pigpio.INPUT)
                pi.set_pull_up_down(pin, pull)

    async def close(self) -> None:
        """Halt any wave and disable the driver (clean exit)."""
        if self._idle_timer is not None:
            self._idle_timer.cancel()
        self.stepper.halt_now("stop", disable=True)
        self.stepper.detach()
        for cb in self._callbacks:
            with contextlib.suppress(Exception):
                cb.cancel()
        self._callbacks.clear()
        with contextlib.suppress(Exception):
            await self.hw.call(self.hw.pi.wave_clear)

    # ----- pigpio callbacks (pigpio's callback thread) -----
    async def switch_pressed(self, side: str) -> bool:
        """Read the switch now (the callback's copy may lag a just-finished move)."""
        pin = self.pins.limit_pin(side)
        if not pin:
            return False
        self._switches[side] = self._tripped(await self.hw.call(self.hw.pi.read, pin))
        return self._switches[side]

    def _tripped(self, level: int) -> bool:
        return (level == 1) == self.pins.limit_active_high

    def _limit_cb(self, side: str) -> Callable[[int, int, int], None]:
        def cb(gpio: int, level: int, tick: int) -> None:
            if level not in (0, 1):
                return
            tripped = self._tripped(level)
            self._switches[side] = tripped
            if tripped and self.stepper.note_trip(tick):
                if self._activity == "homing" and side == self.config.homing.switch:
                    self.stepper.halt_now("home_switch")
                else:
                    self.stepper.halt_now("limit", disable=True)
                    self._fault = {"code": "limit", "message": f"the {side} limit switch tripped during a move"}
                    self.homed = False
                    if self._loop is not None:
                        self._loop.call_soon_threadsafe(self._announce_fault)
            elif self._loop is not None:
                self._loop.call_soon_threadsafe(self._publish)

        return cb

    def _announce_fault(self) -> None:
        self.events.publish("rail:fault", {"fault": self._fault, "state": self.state})
        self._publish()

    def _on_lost(self, reason: str) -> None:
        self._fault = {"code": "pigpio_lost", "message": f"pigpiod connection lost: {reason}"}
        self.position_known = False
        self.homed = False
        self.stepper.lost()
        self._announce_fault()

    def estop(self) -> dict[str, Any]:
        """Halt at once, disable the driver, latch `estop` until `reset()`."""
        self._estop = True
        self.stepper.halt_now("estop", disable=True)
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._publish)
        return self.status()

    async def stop(self) -> dict[str, Any]:
        """Stop the move now, driver kept enabled, nothing latched; the position stays exact.

        pigpio can hand a running chain over to another only at an unknown point of the
        current step interval (plus its 20 µs start delay), so a deceleration swapped in
        mid-move would begin with one irregular interval at full speed. A halt from the
        planned speed has no such interval; it is what this does, dated by the marker.
        """
        if self._activity is not None:
            self._stop_requested = True
            if self.stepper.running:
                self.stepper.halt_now("stop")
            async with self._lock:
                pass
        return self.status()

    async def reset(self) -> dict[str, Any]:
        if not self.hw.connected:
            raise HardwareUnavailable(f"pigpiod connection lost: {self.hw.lost_reason}")
        if self._activity is not None:
            raise RailBusy("the rail is moving")
        self._estop = False
        self._fault = None
        self._publish()
        return self.status()

    async def home(self) -> dict[str, Any]:
        """Home on the configured switch (see homing.py)."""
        from raild.motion.homing import home

        await home(self)
        return self.status()

    def zero(self) -> dict[str, Any]:
        if self.config.has_home_switch:
            raise HomeSwitchFitted("this rail has a home switch: home it instead of zeroing")
        self._check_ready()
        self.position_steps = 0
        self.position_known = True
        self.homed = True
        self._publish()
        return self.status()

    async def set_motor(self, enabled: bool) -> dict[str, Any]:
        if self._activity is not None:
            raise RailBusy("the rail is moving")
        if enabled:
            self._check_latches()
            await self.stepper.enable()
        else:
            await self._disable(forget=True)
        self._publish()
        return self.status()

    async def _disable(self, forget: bool) -> None:
        await self.stepper.disable()
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
        if self._activity is None and self.motor_enabled and self.hw.connected:

            async def off() -> None:
                with contextlib.suppress(Exception):
                    await self._disable(forget=True)
                    log.info("driver disabled after %.0f s idle; home again before moving", self.rc.idle_disable_s)
                    self._publish()

            self._idle_task = asyncio.ensure_future(off())

    # ----- checks -----
    def _check_latches(self) -> None:
        if not self.hw.connected:
            raise HardwareUnavailable(f"pigpiod connection lost: {self.hw.lost_reason}")
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
            self._publish()
            try:
                yield
            finally:
                self._activity = None
                self._live_steps = None
                self._stop_requested = False
                self._publish()
                self._arm_idle()

    def kinematics(self, speed_um_s: float) -> Kinematics:
        spm = self.rc.steps_per_mm / 1000.0
        v = speed_um_s * spm
        return Kinematics(v, self.rc.accel_um_s2 * spm, min(self.rc.start_speed_um_s * spm, v))

    def compile(self, delta_steps: int, speed_um_s: float) -> WaveProgram:
        """The wave program of a straight move; raises InvalidMove if none fits pigpio.

        A ramp is explicit steps, and pigpio's wave memory holds about 6 000 of them;
        when a slow acceleration makes the ramps longer than that, the cruise speed is
        lowered (never the acceleration raised) until the ramps fit.
        """
        speed = speed_um_s
        floor_um_s = min(self.rc.start_speed_um_s, speed_um_s)
        while True:
            try:
                profile = plan_profile(abs(delta_steps), self.kinematics(speed), 2 * self.rc.step_pulse_us)
                program = compile_program(
                    profile,
                    direction=1 if delta_steps > 0 else -1,
                    step_gpio=self.pins.step,
                    dir_gpio=self.pins.dir,
                    step_pulse_us=self.rc.step_pulse_us,
                    dir_setup_us=self.rc.dir_setup_us,
                )
            except ProfileError as exc:
                raise InvalidMove(str(exc)) from exc
            except ProgramError as exc:
                if speed * SPEED_BACKOFF <= floor_um_s:
                    raise InvalidMove(str(exc)) from exc
                speed *= SPEED_BACKOFF
                continue
            if speed < speed_um_s and speed_um_s not in self._slowed_logged:
                self._slowed_logged.add(speed_um_s)
                log.warning(
                    "ramps to %.0f µm/s do not fit pigpio's wave memory at %.0f µm/s²; long moves "
                    "cruise at %.0f µm/s (raise accel_um_s2 to restore the speed)",
                    speed_um_s,
                    self.rc.accel_um_s2,
                    speed,
                )
            return program

    async def _move_steps(self, delta: int, speed_um_s: float) -> RunResult:
        """Run one straight move and account for it; raises MoveInterrupted if cut short."""
        if delta == 0:
            return RunResult(0, True, None)
        self._check_latches()
        program = self.compile(delta, speed_um_s)
        await self.stepper.enable()
        result = await self.stepper.run(program, lambda done: self._progress(program.direction * done))
        self._account(program.direction, result)
        if result.reason in (None, "home_switch"):
            return result
        if result.reason == "lost":
            raise HardwareUnavailable("pigpiod connection lost during the move")
        if result.reason == "stop":
            raise MoveInterrupted("move stopped")
        raise MoveInterrupted(f"move interrupted by {result.reason}")

    def _progress(self, moved_steps: int) -> None:
        self._live_steps = self.position_steps + moved_steps
        self._publish()

    def _account(self, direction: int, result: RunResult) -> None:
        self.position_steps += direction * result.steps
        if not result.exact:
            self.position_known = False
            if self.config.has_home_switch:
                self.homed = False


__all__ = ["Rail", "RunResult"]
