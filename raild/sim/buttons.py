"""The virtual rig's control panel: buttons and a rotary encoder on the `[buttons]` pins.

Wiring as docs/hardware.md describes it: with `active_low` each switch closes to
ground and the input's pull-up (set by whoever reads the pin) holds it high while
open; otherwise the switch closes to 3.3 V against a pull-down. An open switch
drives nothing, so a released pin reads its pull. The encoder's two contacts
close to its common pin, which is grounded (gpiozero's `RotaryEncoder` always
pulls its inputs up), and pass through the quadrature sequence once per detent.
"""

from __future__ import annotations

from collections.abc import Callable

from raild.config import BUTTON_PINS, ButtonsConfig

Drive = Callable[[int, int | None], object]  # (gpio, level or None = let go)

# One detent of an encoder, contacts closed (1) or open (0), as (A, B): A leads when
# turning clockwise ("+"), B leads the other way; both open again at the detent.
_CW = ((1, 0), (1, 1), (0, 1), (0, 0))


def quadrature(direction: str) -> list[tuple[int, int]]:
    """The (A, B) contact states one detent passes through, ending open at the detent."""
    if direction not in ("+", "-"):
        raise ValueError(f"direction must be '+' or '-', not {direction!r}")
    return list(_CW) if direction == "+" else [(b, a) for a, b in _CW]


class VirtualButtons:
    def __init__(self, config: ButtonsConfig, drive: Drive) -> None:
        self._cfg = config
        self._drive = drive

    def pin(self, name: str) -> int:
        if name not in BUTTON_PINS or name == "led":
            raise ValueError(f"no button {name!r}; buttons: {', '.join(n for n in BUTTON_PINS if n != 'led')}")
        pin = getattr(self._cfg, name)
        if not pin:
            raise ValueError(f"buttons.{name} is 0 (not fitted) in this rig's config")
        return int(pin)

    def set(self, name: str, pressed: bool) -> int:
        """Close (press) or open (release) a switch; returns its pin."""
        pin = self.pin(name)
        closed = 0 if self._cfg.active_low or name.startswith("encoder") else 1
        self._drive(pin, closed if pressed else None)
        return pin

    def turn(self, direction: str, detents: int = 1) -> None:
        """Turn the encoder by whole detents, every contact change its own edge."""
        a, b = self.pin("encoder_a"), self.pin("encoder_b")
        for _ in range(detents):
            for closed_a, closed_b in quadrature(direction):
                self._drive(a, 0 if closed_a else None)
                self._drive(b, 0 if closed_b else None)
