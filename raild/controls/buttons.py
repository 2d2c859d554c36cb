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


def make_button(factory: Any, pin: int, config: ButtonsConfig, **kwargs: Any) -> Button:
    """A switch wired as `[buttons]` says: to ground with a pull-up when active_low,
    else to 3.3 V with a pull-down; debounced by pigpio's glitch filter."""
    bounce_s = config.bounce_ms / 1000.0 if config.bounce_ms else None
    return Button(pin, pull_up=config.active_low, bounce_time=bounce_s, pin_factory=factory, **kwargs)


def press_button(factory: Any, pin: int, config: ButtonsConfig, on_press: Callable[[], None]) -> Button:
    button = make_button(factory, pin, config)
    button.when_pressed = on_press
    return button
