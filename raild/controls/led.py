"""The status LED: steady when idle, a slow blink while moving or stacking, a fast
blink on a fault or an e-stop. `led_pattern` is the rule; `StatusLed` shows it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from gpiozero import LED

Pattern = Literal["steady", "slow", "fast"]
SLOW_S = 0.5  # on and off times of each blink
FAST_S = 0.1
_STACKING = ("queued", "running", "pausing", "cancelling")


def led_pattern(status: Mapping[str, Any]) -> Pattern:
    """The pattern for a `GET /status` document."""
    state = status.get("state")
    if state in ("fault", "estop"):
        return "fast"
    job = status.get("job")
    if state != "idle" or (isinstance(job, Mapping) and job.get("state") in _STACKING):
        return "slow"
    return "steady"


class StatusLed:
    """Blocking gpiozero calls: use from a worker thread, not the event loop."""

    def __init__(self, factory: Any, pin: int) -> None:
        self.led = LED(pin, initial_value=False, pin_factory=factory)
        self.pattern: Pattern | None = None

    def show(self, pattern: Pattern) -> None:
        if pattern == self.pattern:
            return
        if pattern == "steady":
            self.led.on()
        else:
            period = SLOW_S if pattern == "slow" else FAST_S
            self.led.blink(on_time=period, off_time=period)
        self.pattern = pattern

    def close(self) -> None:
        self.led.close()
