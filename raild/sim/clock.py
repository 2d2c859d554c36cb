"""The emulated microsecond clock.

Emulated time runs `time_scale` times faster than the host's monotonic clock.
`now_us()` counts emulated µs since the clock started and never wraps, so the
wave engine can use it as an absolute timeline; `tick()` is what pigpiod
reports: (tick_offset_us + now_us) mod 2**32, so wrap-around can be tested by
starting near 2**32.
"""

from __future__ import annotations

import time

from raild.hw.pigpio_facts import TICK_WRAP

TICK_MODULUS = TICK_WRAP


class EmuClock:
    def __init__(self, tick_offset_us: int = 0, time_scale: float = 1.0) -> None:
        if time_scale <= 0:
            raise ValueError("time_scale must be > 0")
        self.tick_offset_us = tick_offset_us % TICK_MODULUS
        self.time_scale = time_scale
        self._start_s = time.monotonic()

    def now_us(self) -> int:
        return int((time.monotonic() - self._start_s) * 1e6 * self.time_scale)

    def tick_at(self, emu_us: int) -> int:
        return (self.tick_offset_us + emu_us) % TICK_MODULUS

    def tick(self) -> int:
        return self.tick_at(self.now_us())

    def real_delay_s(self, emu_us: float) -> float:
        """Host seconds until `emu_us` emulated µs have passed."""
        return max(0.0, emu_us / 1e6 / self.time_scale)

    def monotonic_at(self, emu_us: int) -> float:
        """The host monotonic time at which the emulated clock reads `emu_us`."""
        return self._start_s + emu_us / 1e6 / self.time_scale
