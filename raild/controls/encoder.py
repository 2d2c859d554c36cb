"""A rotary encoder (gpiozero `RotaryEncoder`): one detent is one jog step.

gpiozero decodes the quadrature itself and reports whole detents, clockwise as
"+". Its inputs are always pulled up (the encoder's common pin goes to ground).
No glitch filter: the decoder tolerates contact bounce (a bounce only steps back
and forth within a detent), and a filter long enough for buttons would swallow
the edges of a quick turn.
"""

from __future__ import annotations

from typing import Any

from gpiozero import RotaryEncoder

from raild.controls.actions import ControlActions, Direction, PressListener


def make_encoder(
    factory: Any, pin_a: int, pin_b: int, actions: ControlActions, on_press: PressListener
) -> RotaryEncoder:
    encoder = RotaryEncoder(pin_a, pin_b, max_steps=0, pin_factory=factory)

    def detent(direction: Direction) -> None:
        actions.jog_step(direction)
        on_press("encoder", direction)

    encoder.when_rotated_clockwise = lambda: detent("+")
    encoder.when_rotated_counter_clockwise = lambda: detent("-")
    return encoder
