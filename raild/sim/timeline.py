"""Programs the wave engine plays: a single wave (once or repeated) or a chain.

A chain is parsed with pigpiod's own rules (pigpio.c gpioWaveChain), including
its control-block accounting, into a small tree. Playing it is lazy: `events()`
walks the tree with nested generators, so a chain whose loops expand to
hundreds of thousands of pulses needs memory only for the nesting depth.

Events are `(t_us, on_mask, off_mask, at)` in absolute emulated µs, where `at`
is the wave id being transmitted (or WAVE_NOT_FOUND inside chain delays);
pure markers have both masks 0. The last event is `(t_end, 0, 0, END)`.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from dataclasses import dataclass, field

from raild.sim import protocol as p
from raild.sim.waves import Pulse, WaveStore

END = -1
Event = tuple[int, int, int, int]


class ChainError(Exception):
    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


@dataclass
class WaveItem:
    wid: int
    pulses: list[Pulse]


@dataclass
class DelayItem:
    delay_us: int


@dataclass
class LoopItem:
    count: int  # 0 = skip (pigpio still runs the body's first CB if it is a delay); -1 = forever
    body: list[Item] = field(default_factory=list)


Item = WaveItem | DelayItem | LoopItem


def parse_chain(buf: bytes, store: WaveStore) -> list[Item]:
    """Validate like pigpiod and return the chain tree; raises ChainError."""
    cb = 1  # the start-of-chain delay CB

    def need(n: int) -> None:
        # chainGetCB(n) fails when n is past the 600 chain CBs.
        if n >= p.CHAIN_CBS:
            raise ChainError(p.PI_CHAIN_TOO_BIG)

    root: list[Item] = []
    stack: list[tuple[list[Item], int]] = []  # (enclosing list, cb at loop begin)
    current = root
    counters = 0
    i = 0
    size = len(buf)
    while i < size:
        wid = buf[i]
        if wid == 255:
            if i + 2 > size:
                raise ChainError(p.PI_BAD_CHAIN_CMD)
            cmd = buf[i + 1]
            if cmd == 0:
                if len(stack) >= p.CHAIN_NESTING:
                    raise ChainError(p.PI_CHAIN_NESTING)
                stack.append((current, cb))
                current = []
                i += 2
            elif cmd == 1:
                if counters >= p.CHAIN_COUNTERS:
                    raise ChainError(p.PI_CHAIN_COUNTER)
                if i + 4 > size:
                    raise ChainError(p.PI_BAD_CHAIN_CMD)
                if not stack:
                    raise ChainError(p.PI_BAD_CHAIN_LOOP)
                outer, loop_cb = stack.pop()
                if loop_cb == cb:
                    raise ChainError(p.PI_BAD_CHAIN_LOOP)
                cycles = buf[i + 2] | (buf[i + 3] << 8)
                i += 4
                if cycles > p.MAX_WAVE_CYCLES:  # cannot happen with two bytes; kept as pigpiod has it
                    raise ChainError(p.PI_CHAIN_LOOP_CNT)
                if cycles > 1:
                    need(cb)
                    cb += 1
                    need(cb)
                    counters += 1
                outer.append(LoopItem(cycles, current))
                current = outer
            elif cmd == 2:
                if i + 4 > size:
                    raise ChainError(p.PI_BAD_CHAIN_CMD)
                delay = buf[i + 2] | (buf[i + 3] << 8)
                i += 4
                if delay > p.MAX_WAVE_DELAY_US:  # unreachable with two bytes, as in pigpiod
                    raise ChainError(p.PI_BAD_CHAIN_DELAY)
                if delay:
                    need(cb)
                    cb += 1
                    current.append(DelayItem(delay))
            elif cmd == 3:
                i += 2
                if not stack:
                    raise ChainError(p.PI_BAD_CHAIN_LOOP)
                outer, loop_cb = stack.pop()
                if loop_cb == cb:
                    raise ChainError(p.PI_BAD_CHAIN_LOOP)
                need(cb)
                cb += 1
                if i < size:
                    raise ChainError(p.PI_BAD_FOREVER)
                outer.append(LoopItem(-1, current))
                current = outer
            else:
                raise ChainError(p.PI_BAD_CHAIN_CMD)
        else:
            wave = store.get(wid)
            if wave is None:
                raise ChainError(p.PI_BAD_WAVE_ID)
            need(cb)
            cb += 1
            need(cb)
            current.append(WaveItem(wid, wave.pulses))
            i += 1
    need(cb)  # the final CB
    # A loop begun but never closed just runs once, as on the Pi.
    while stack:
        outer, _ = stack.pop()
        outer.extend(current)
        current = outer
    return root


class Program:
    """Something transmitting: knows how to produce its event stream lazily."""

    def __init__(self, items: list[Item], repeat: bool = False, skip_start_delay: bool = False) -> None:
        self.items = items
        self.repeat = repeat  # a repeated wave (WVTXR / REPEAT modes)
        self.skip_start_delay = skip_start_delay  # SYNC waves join the running DMA after its start delay
        self.stop_repeating = False  # set when a SYNC wave is queued behind a repeating one
        self.single_wave = False  # WVTX/WVTXR/WVTXM rather than a chain

    def events(self, t0_us: int) -> Iterator[Event]:
        """The event stream from t0_us; a wave whose delays are all 0 still takes 1 µs."""
        t = t0_us
        if not self.skip_start_delay:
            # The start delay CB belongs to the wave for WVTX (WVTAT names it), to the chain for WVCHA.
            first = self.items[0] if len(self.items) == 1 else None
            yield (t, 0, 0, first.wid if isinstance(first, WaveItem) and self.single_wave else p.WAVE_NOT_FOUND)
            t += p.WAVE_START_DELAY_US
        while True:
            t = yield from _play(self.items, t, self)
            if not self.repeat or self.stop_repeating:
                break
        yield (t, 0, 0, END)


def _first_delay(items: list[Item]) -> int:
    """The delay of the body's first CB when it is a delay (what a skipped loop still runs)."""
    for item in items:
        if isinstance(item, DelayItem):
            return item.delay_us
        if isinstance(item, WaveItem):
            return 0
        if item.body:
            return _first_delay(item.body)
    return 0


def _play(items: list[Item], t: int, prog: Program) -> Generator[Event, None, int]:
    # Generators return the time at which they end, so no list is ever built.
    for item in items:
        if isinstance(item, WaveItem):
            wid = item.wid
            t_start = t
            yield (t, 0, 0, wid)
            for on, off, delay in item.pulses:
                if on or off:
                    yield (t, on, off, wid)
                t += delay
            if t == t_start:
                t += 1  # DMA takes time even without delays; keeps loops of empty waves from freezing the clock
        elif isinstance(item, DelayItem):
            yield (t, 0, 0, p.WAVE_NOT_FOUND)
            t += item.delay_us
        elif item.count == 0:
            t += _first_delay(item.body)
        elif item.count < 0:
            while not prog.stop_repeating:
                t_before = t
                t = yield from _play(item.body, t, prog)
                if t == t_before:
                    yield (t, 0, 0, p.WAVE_NOT_FOUND)  # zero-length body: let time move on
                    t += 1
        else:
            for _ in range(item.count):
                t = yield from _play(item.body, t, prog)
    return t
