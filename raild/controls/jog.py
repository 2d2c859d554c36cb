"""Hold-to-jog buttons: a jog renewed while a button is held, ended on release.

`ControlActions.jog_start` starts a jog that ends by itself unless renewed (a
dead-man, so a stuck callback or a lost connection never leaves the rail
running); gpiozero's hold machinery renews it every `RENEW_S` while the button
stays down. Two jog buttons share one jog: releasing one while the other is
still held turns the jog over to the other.
"""

from __future__ import annotations

import threading
from typing import Any

from gpiozero import Button

from raild.config import ButtonsConfig
from raild.controls.actions import ControlActions, Direction, PressListener
from raild.controls.buttons import make_button

RENEW_S = 0.15  # well inside the rail's dead-man (rail.jog_deadman_ms, 500 by default)


class JogButtons:
    def __init__(self, actions: ControlActions, on_press: PressListener) -> None:
        self._actions = actions
        self._on_press = on_press  # (button name) -> None: publishes the press
        self._held: list[Direction] = []  # most recent last
        self._lock = threading.Lock()
        self.buttons: list[Button] = []

    def add(self, factory: Any, pin: int, config: ButtonsConfig, name: str, direction: Direction) -> Button:
        button = make_button(factory, pin, config, hold_time=RENEW_S, hold_repeat=True)
        button.when_pressed = lambda: self._pressed(name, direction)
        button.when_held = lambda: self._renew(direction)
        button.when_released = lambda: self._released(direction)
        self.buttons.append(button)
        return button

    def _pressed(self, name: str, direction: Direction) -> None:
        with self._lock:
            if direction in self._held:
                self._held.remove(direction)
            self._held.append(direction)
        self._actions.jog_start(direction)
        self._on_press(name)

    def _renew(self, direction: Direction) -> None:
        with self._lock:
            current = self._held[-1] if self._held else None
        if current == direction:  # the newest held button drives
            self._actions.jog_start(direction)

    def _released(self, direction: Direction) -> None:
        with self._lock:
            if direction in self._held:
                self._held.remove(direction)
            other = self._held[-1] if self._held else None
        if other is None:
            self._actions.jog_stop()
        else:
            self._actions.jog_start(other)
