"""The wave engine: plays one program at a time on the emulated clock.

Like pigpio's single output DMA channel, only one wave or chain transmits; a
new WVTX/WVCHA replaces it, WVHLT stops it, and the SYNC modes queue a wave to
follow the current one. The engine never runs ahead of the clock: callers
`advance_to(now)` before looking at anything, so a halt truncates the pulse
train exactly at the current emulated µs.

Playing costs a few µs of CPU per edge, so a very fast train at a high
time_scale can outrun the host. Each `advance_to` then plays at most
EVENTS_PER_ADVANCE events and the playback lags behind the clock (`lagging`,
`lag_count`) rather than freezing the emulator; a halt in that state stops where
playback has got to.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator

from raild.sim import protocol as p
from raild.sim.gpio import GpioBank
from raild.sim.timeline import END, Event, Program, WaveItem

EVENTS_PER_ADVANCE = 20_000


class WaveEngine:
    def __init__(self, gpio: GpioBank) -> None:
        self._gpio = gpio
        self._program: Program | None = None
        self._events: Iterator[Event] | None = None
        self._next: Event | None = None
        self._queue: deque[Program] = deque()
        self.at = p.NO_TX_WAVE
        self.started = 0  # programs started, for inspection
        self.lagging = False
        self.lag_count = 0

    @property
    def busy(self) -> bool:
        return self._events is not None

    def wids_in_use(self) -> set[int]:
        """Single waves still to play or playing (SYNC queue included)."""
        out: set[int] = set()
        for prog in (self._program, *self._queue):
            if prog is not None and prog.single_wave:
                out.update(item.wid for item in prog.items if isinstance(item, WaveItem))
        return out

    @property
    def next_event_us(self) -> int | None:
        return self._next[0] if self._next is not None else None

    def start(self, program: Program, now_us: int) -> None:
        """Replace whatever transmits (pigpio kills the DMA) and start now."""
        self.halt(now_us)
        self._begin(program, now_us)

    def start_sync(self, program: Program, now_us: int) -> None:
        """SYNC modes: follow the current program, or start now if idle."""
        self.advance_to(now_us)
        if self._events is None:
            self._begin(program, now_us)
            return
        assert self._program is not None
        self._program.stop_repeating = True  # a repeating wave ends after its current cycle
        for queued in self._queue:
            queued.stop_repeating = True
        program.skip_start_delay = True
        self._queue.append(program)

    def halt(self, now_us: int) -> None:
        self.advance_to(now_us)
        self._program = None
        self._events = None
        self._next = None
        self._queue.clear()
        self.at = p.NO_TX_WAVE

    def _begin(self, program: Program, t_us: int) -> None:
        self._program = program
        self._events = program.events(t_us)
        self._next = next(self._events)
        self.started += 1

    def advance_to(self, now_us: int) -> None:
        gpio = self._gpio
        budget = EVENTS_PER_ADVANCE
        self.lagging = False
        while self._next is not None and self._next[0] <= now_us:
            budget -= 1
            if budget < 0:
                self.lagging = True
                self.lag_count += 1
                return
            t_us, on, off, at = self._next
            if at == END:
                self._program = None
                self._events = None
                self._next = None
                self.at = p.NO_TX_WAVE
                if self._queue:
                    self._begin(self._queue.popleft(), t_us)
                continue
            self.at = at
            if on or off:
                gpio.apply_wave(on, off, t_us)
            assert self._events is not None
            self._next = next(self._events)
