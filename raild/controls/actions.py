"""What the physical controls may ask of the daemon, and from which thread.

Every method is called on gpiozero's callback thread (pigpio's notification
thread), never on the event loop, and must return at once: a slow action would
hold back the next button's edge, the e-stop's included. `estop()` acts before it
returns, without the event loop (which may be blocked or saturated); the others
may hand their work to the loop. Refusals (a stack running, the rail not homed)
are the implementation's to report, as events; they never raise here.
"""

from __future__ import annotations

from typing import Literal, Protocol

Direction = Literal["+", "-"]


class PressListener(Protocol):
    """Told of every press (and encoder detent), to publish it as an event."""

    def __call__(self, name: str, direction: Direction | None = None) -> None: ...


class ControlActions(Protocol):
    def estop(self) -> None:
        """Latch the e-stop exactly as `POST motion/estop` does; done when this returns."""

    def stop(self) -> None:
        """A controlled stop, as `POST motion/stop` (a running stack pauses)."""

    def start_pause_resume(self) -> None:
        """Pause a running stack, resume a paused one, else start the last setup again."""

    def jog_start(self, direction: Direction) -> None:
        """Start, or renew, a continuous jog; it ends unless renewed (dead-man)."""

    def jog_stop(self) -> None:
        """End a jog started with `jog_start`."""

    def jog_step(self, direction: Direction) -> None:
        """Move one jog step (`buttons.jog_step_um`); steps asked meanwhile add up."""
