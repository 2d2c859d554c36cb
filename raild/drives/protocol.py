"""The Drive seam: everything above it works in integer microsteps and never
imports pigpio (or a serial port); a Drive alone emits steps and owns the
driver's enable and the limit switches.

Contract, for every implementation:
- `move`/`jog` return at rest. `MoveResult.steps` are the steps emitted (signed,
  + towards max); `exact` says the count is known to the step. A stop requested
  with `request_stop()` decelerates at the move's acceleration and is always
  exact. `halt_now()` stops at once (e-stop, limit switch): exact when the halt
  could be dated, else `exact = False`, never a guess.
- A host that falls behind ("underrun") must never cost the count: the motion
  ends where the steps already handed over end, and the move goes on from rest.
  Underruns are counted in `status()`.
- `progress(steps)` is called at least 10 times a second while moving, with the
  signed steps emitted so far (an estimate between exact segment boundaries).
- `halt_now` and `request_stop` may be called from any thread and never wait on
  anything a running move holds.
- Switch listeners are called on the event loop thread.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

Reason = Literal["stop", "estop", "limit", "home_switch", "lost", "underrun"]
Side = Literal["min", "max"]
Progress = Callable[[int], None]
SwitchListener = Callable[[Side, bool], None]  # (side, tripped)


class DriveFault(Exception):
    """The drive cannot do what was asked; the message says why and what to do."""


@dataclass(frozen=True)
class MoveResult:
    steps: int  # steps emitted, signed (+ = towards max)
    reason: Reason | None  # None: the move completed (a jog: it reached its limit)
    exact: bool  # the count is known to the step
    trip_steps: int | None = None  # signed steps emitted when `home_side` tripped (homing)


@runtime_checkable
class Drive(Protocol):
    name: str

    @property
    def motor_enabled(self) -> bool: ...

    async def start(self) -> None:
        """Set up pins / connect; switch states are readable afterwards."""

    async def close(self) -> None:
        """Halt and disable the driver."""

    async def enable(self) -> None: ...

    async def disable(self) -> None: ...

    async def move(
        self,
        delta_steps: int,
        speed_steps_s: float,
        accel_steps_s2: float,
        start_speed_steps_s: float,
        progress: Progress,
        home_side: Side | None = None,
    ) -> MoveResult:
        """A straight move from rest to rest. With `home_side`, that switch tripping
        ends the move with a decelerated stop (reason "home_switch", `trip_steps` dated);
        any other switch tripping halts at once and disables the driver (reason "limit")."""

    async def jog(
        self,
        direction: int,
        speed_steps_s: float,
        accel_steps_s2: float,
        start_speed_steps_s: float,
        limit_steps: int,
        progress: Progress,
    ) -> MoveResult:
        """Continuous motion until `request_stop()` (decelerates; reason "stop") or until
        it comes to rest exactly `limit_steps` away (reason None)."""

    def request_stop(self) -> None: ...

    def halt_now(self, reason: Reason, disable: bool = False) -> None: ...

    async def switch_pressed(self, side: Side) -> bool: ...

    def on_switch(self, listener: SwitchListener) -> None: ...

    def on_lost(self, listener: Callable[[str], None]) -> None:
        """`listener(reason)` once, when the drive's link goes (a fault above)."""

    def status(self) -> dict[str, object]:
        """Plain JSON for /status (e.g. underruns, segment_ms)."""


@runtime_checkable
class HomingDrive(Drive, Protocol):
    """A drive whose controller homes by itself (grbl `$H`)."""

    async def home(self) -> MoveResult: ...


@runtime_checkable
class UnlockableDrive(Drive, Protocol):
    """A drive whose controller latches its own alarm lock (grbl `$X`); raild's reset unlocks it."""

    async def unlock(self) -> None: ...


@runtime_checkable
class ReconnectingDrive(Drive, Protocol):
    """A drive that reopens its own lost link (grbl): `listener()` once it is back."""

    def on_restored(self, listener: Callable[[], None]) -> None: ...
