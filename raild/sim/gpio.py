"""The emulated GPIO bank: modes, pulls, output latches and inputs driven from outside.

A pin's level follows the hardware: an output shows its latch; an input shows
what drives it (the virtual rail's switches) or else its pull; a floating input
keeps its last level. Power-on pulls are the BCM283x/BCM2711 defaults (GPIO 0-8
pulled up, the rest pulled down). Every change of the bank-1 levels is passed to
the listeners with the emulated time of the change.
"""

from __future__ import annotations

from collections.abc import Callable

from raild.sim import protocol as p

Listener = Callable[[int, int, int], None]  # (changed_bits, levels, emu_us)
NUM_GPIO = p.MAX_GPIO + 1


class GpioBank:
    def __init__(self) -> None:
        self.modes = [p.MODE_INPUT] * NUM_GPIO
        self.pulls = [p.PUD_UP if g <= 8 else p.PUD_DOWN for g in range(NUM_GPIO)]
        self.latch = 0
        self.driven: dict[int, int | None] = {}  # gpio -> level an outside circuit forces, None = open
        self.filter_us = [0] * (p.MAX_USER_GPIO + 1)
        self.levels = 0
        self.listeners: list[Listener] = []
        for g in range(NUM_GPIO):
            if self._compute(g):
                self.levels |= 1 << g

    def _compute(self, g: int) -> int:
        bit = 1 << g
        if self.modes[g] == p.MODE_OUTPUT:
            return 1 if self.latch & bit else 0
        driven = self.driven.get(g)
        if driven is not None:
            return driven
        if self.pulls[g] == p.PUD_UP:
            return 1
        if self.pulls[g] == p.PUD_DOWN:
            return 0
        return 1 if self.levels & bit else 0  # floating: keeps its charge

    def _refresh(self, gpios_mask: int, emu_us: int) -> None:
        new = self.levels
        mask = gpios_mask
        while mask:
            bit = mask & -mask
            mask ^= bit
            new = (new | bit) if self._compute(bit.bit_length() - 1) else (new & ~bit)
        changed = (new ^ self.levels) & 0xFFFFFFFF
        self.levels = new
        if changed:
            bank1 = new & 0xFFFFFFFF
            for listener in self.listeners:
                listener(changed, bank1, emu_us)

    def level(self, g: int) -> int:
        return (self.levels >> g) & 1

    @property
    def bank1(self) -> int:
        return self.levels & 0xFFFFFFFF

    def set_mode(self, g: int, mode: int, emu_us: int) -> None:
        self.modes[g] = mode
        self._refresh(1 << g, emu_us)

    def set_pull(self, g: int, pud: int, emu_us: int) -> None:
        self.pulls[g] = pud
        self._refresh(1 << g, emu_us)

    def write(self, g: int, level: int, emu_us: int) -> None:
        """WRITE: sets the latch and makes the pin an output, as pigpiod does."""
        bit = 1 << g
        self.latch = (self.latch | bit) if level else (self.latch & ~bit)
        self.modes[g] = p.MODE_OUTPUT
        self._refresh(bit, emu_us)

    def apply_wave(self, on_mask: int, off_mask: int, emu_us: int) -> None:
        """GPSET/GPCLR from the wave DMA: latches change; only outputs show it."""
        self.latch = (self.latch | on_mask) & ~off_mask
        self._refresh(on_mask | off_mask, emu_us)

    def drive(self, g: int, level: int | None, emu_us: int) -> None:
        """An outside circuit drives the pin (0/1) or lets go of it (None)."""
        if self.driven.get(g, -1) == level:
            return
        self.driven[g] = level
        self._refresh(1 << g, emu_us)
