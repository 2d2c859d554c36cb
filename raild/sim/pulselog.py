"""A bounded, compact log of STEP pulses as the virtual driver saw them.

Each entry is packed into 16 bytes of one preallocated ring buffer, so keeping
the last 100 000 steps costs under 2 MB instead of a Python object per step;
entries become `StepRecord`s only when read.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from raild.hw.pigpio_facts import TICK_WRAP

_RECORD = struct.Struct("<qiBbxx")  # emu_us, position_steps, outcome, direction
OUTCOMES = ("moved", "disabled", "stall", "hard_stop", "short_pulse")
_CODE = {name: i for i, name in enumerate(OUTCOMES)}


@dataclass(frozen=True)
class StepRecord:
    tick: int
    emu_us: int
    direction: int  # +1 / -1
    outcome: str  # "moved" | "disabled" | "stall" | "hard_stop" | "short_pulse"
    position_steps: int  # carriage position after the step


class PulseLog:
    def __init__(self, capacity: int, tick_offset_us: int) -> None:
        self.capacity = capacity
        self._tick_offset_us = tick_offset_us
        self._buf = bytearray(capacity * _RECORD.size)
        self._next = 0  # slot the next entry goes to
        self._count = 0

    def append(self, emu_us: int, direction: int, outcome: str, position_steps: int) -> None:
        _RECORD.pack_into(self._buf, self._next * _RECORD.size, emu_us, position_steps, _CODE[outcome], direction)
        self._next = (self._next + 1) % self.capacity
        self._count = min(self._count + 1, self.capacity)

    def clear(self) -> None:
        self._next = 0
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def records(self, last: int | None = None) -> list[StepRecord]:
        """Oldest first; only the newest `last` entries when given."""
        n = self._count if last is None else max(0, min(last, self._count))
        first = (self._next - n) % self.capacity
        out = []
        for k in range(n):
            emu_us, pos, code, direction = _RECORD.unpack_from(self._buf, ((first + k) % self.capacity) * _RECORD.size)
            out.append(StepRecord((self._tick_offset_us + emu_us) % TICK_WRAP, emu_us, direction, OUTCOMES[code], pos))
        return out
