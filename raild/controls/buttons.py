"""Momentary buttons (e-stop, stop, start) as gpiozero `Button`s.

The press handler runs on gpiozero's callback thread and calls the action
straight away: for the e-stop this is the whole path from the switch to the
halted wave, with no event loop in between.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gpiozero import Button

from raild.config import ButtonsConfig

# The e-stop's glitch filter: long enough to reject a spike the motor wiring induces,
# short enough to add nothing that matters. It needs no debounce: a bounce only
# latches again what is already latched.
ESTOP_FILTER_MS = 1


def make_button(factory: Any, pin: int, config: ButtonsConfig, bounce_ms: int | None = None, **kwargs: Any) -> Button:
    """A switch wired as `[buttons]` says: to ground with a pull-up when active_low,
    else to 3.3 V with a pull-down; debounced by pigpio's glitch filter (`bounce_ms`,
    default `buttons.bounce_ms`): a level counts once it has been steady that long."""
    bounce_ms = config.bounce_ms if bounce_ms is None else bounce_ms
    bounce_s = bounce_ms / 1000.0 if bounce_ms else None
    return Button(pin, pull_up=config.active_low, bounce_time=bounce_s, pin_factory=factory, **kwargs)


def press_button(
    factory: Any, pin: int, config: ButtonsConfig, on_press: Callable[[], None], bounce_ms: int | None = None
) -> Button:
    button = make_button(factory, pin, config, bounce_ms)
    button.when_pressed = on_press
    return button
