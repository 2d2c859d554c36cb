"""Notification handles: the 12-byte level reports pigpiod streams to clients.

A report carries the whole bank-1 snapshot and the tick of the change; every
change of a watched GPIO is reported, outputs included (pigpiod samples every
5 µs by default and may miss shorter pulses; the emulator reports them all), and reports are
batched per handle and written in one go. GPIOs with a glitch filter (FG) are
reported only once their new level has been steady for the filter time, with
the tick at which that became true (first edge + steady), as pigpiod's filter
does (pigpio.c alertGlitchFilter; pigpio.h: "each (stable) edge will be
timestamped steady microseconds after it was first detected"). The filter is
judged from the edges' own emulated times, never from when the timeline happens
to be pumped: a level is confirmed by the next edge if that comes at least the
filter time later, or by a timer if no edge comes, whichever is first.
A keep-alive (flags 0x40) goes out when a handle has been silent for 60 s.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from raild.sim import protocol as p
from raild.sim.clock import EmuClock
from raild.sim.gpio import GpioBank

Sink = Callable[[bytes], None]
Scheduler = Callable[[int, Callable[[], None]], None]  # (emu_us, fn): call fn (locked) at that time


@dataclass
class NotifyHandle:
    handle: int
    owner: object
    sink: Sink | None  # None: a pipe-style handle (NO); pipes are not emulated, reports are dropped
    bits: int = 0
    running: bool = False
    seqno: int = 0
    buffer: bytearray = field(default_factory=bytearray)
    last_emit_s: float = field(default_factory=time.monotonic)


class Notifier:
    def __init__(self, gpio: GpioBank, clock: EmuClock, schedule: Scheduler, request_flush: Callable[[], None]) -> None:
        self._gpio = gpio
        self._clock = clock
        self._schedule = schedule
        self._request_flush = request_flush
        self.slots: list[NotifyHandle | None] = [None] * p.NOTIFY_SLOTS
        self._view = gpio.bank1  # levels as reported (glitch filters applied)
        self._pending: dict[int, tuple[int, int]] = {}  # gpio -> (last raw level, its first edge emu_us)
        self._filtered_mask = 0
        self._watched = 0
        self._watched_dirty = True
        self._wdog_us: dict[int, int] = {}  # gpio -> watchdog timeout
        self._wdog_token: dict[int, int] = {}  # re-arming invalidates the timer already scheduled

    # ----- handles -----
    def open(self, owner: object, sink: Sink | None) -> int:
        for i, slot in enumerate(self.slots):
            if slot is None:
                self.slots[i] = NotifyHandle(i, owner, sink)
                return i
        return p.PI_NO_HANDLE

    def begin(self, handle: int, bits: int) -> int:
        slot = self.slots[handle] if 0 <= handle < p.NOTIFY_SLOTS else None
        if slot is None:
            return p.PI_BAD_HANDLE
        slot.bits = bits
        slot.running = True
        self._watched_dirty = True
        return 0

    def pause(self, handle: int) -> int:
        slot = self.slots[handle] if 0 <= handle < p.NOTIFY_SLOTS else None
        if slot is None:
            return p.PI_BAD_HANDLE
        slot.running = False
        self._watched_dirty = True
        return 0

    def close(self, handle: int) -> int:
        slot = self.slots[handle] if 0 <= handle < p.NOTIFY_SLOTS else None
        if slot is None:
            return p.PI_BAD_HANDLE
        self.slots[handle] = None
        self._watched_dirty = True
        return 0

    def close_owned_by(self, owner: object) -> None:
        for i, slot in enumerate(self.slots):
            if slot is not None and slot.owner is owner:
                self.slots[i] = None
                self._watched_dirty = True

    def _watched_bits(self) -> int:
        # Cached OR of every running handle's bits; handles change rarely, levels often.
        if self._watched_dirty:
            self._watched = 0
            for slot in self.slots:
                if slot is not None and slot.running:
                    self._watched |= slot.bits
            self._watched_dirty = False
        return self._watched

    # ----- glitch filter -----
    def set_filter(self, g: int, steady_us: int, now_us: int) -> None:
        self._gpio.filter_us[g] = steady_us
        self._filtered_mask = (self._filtered_mask | (1 << g)) if steady_us else (self._filtered_mask & ~(1 << g))
        self._pending.pop(g, None)
        bit = 1 << g
        if (self._view ^ self._gpio.bank1) & bit:
            # A level the filter was holding back shows up at once, as pigpiod's next sample would.
            self._view ^= bit
            self._emit(bit, now_us)

    # ----- watchdogs -----
    def set_watchdog(self, g: int, timeout_us: int, now_us: int) -> None:
        """WDOG: report a timeout (flags 0x20|gpio) whenever the level has not changed for timeout_us."""
        if timeout_us:
            self._wdog_us[g] = timeout_us
            self._arm_watchdog(g, now_us)
        else:
            self._wdog_us.pop(g, None)
            self._wdog_token[g] = self._wdog_token.get(g, 0) + 1

    def _arm_watchdog(self, g: int, from_us: int) -> None:
        token = self._wdog_token[g] = self._wdog_token.get(g, 0) + 1
        due_us = from_us + self._wdog_us[g]
        self._schedule(due_us, lambda: self._watchdog_due(g, token, due_us))

    def _watchdog_due(self, g: int, token: int, due_us: int) -> None:
        if self._wdog_token.get(g) != token or g not in self._wdog_us:
            return
        tick = self._clock.tick_at(due_us)
        for slot in self.slots:
            if slot is not None and slot.running and slot.bits & (1 << g):
                slot.buffer += p.REPORT.pack(slot.seqno & 0xFFFF, p.NTFY_FLAGS_WDOG | g, tick, self._view)
                slot.seqno += 1
        self._request_flush()
        self._arm_watchdog(g, due_us)

    # ----- reports -----
    def on_gpio(self, changed: int, levels: int, emu_us: int) -> None:
        if self._wdog_us:
            for g in self._wdog_us:
                if changed & (1 << g):
                    self._arm_watchdog(g, emu_us)
        filtered = changed & self._filtered_mask
        mask = filtered
        while mask:
            bit = mask & -mask
            mask ^= bit
            g = bit.bit_length() - 1
            self._filtered_edge(g, (levels >> g) & 1, emu_us)
        direct = changed & ~filtered
        if direct:
            self._view = (self._view & ~direct) | (levels & direct)
            self._emit(direct, emu_us)

    def _filtered_edge(self, g: int, level: int, edge_us: int) -> None:
        # The level before this edge may have stayed long enough to count: report it first.
        self._settle_filter(g, edge_us)
        self._pending[g] = (level, edge_us)
        steady = self._gpio.filter_us[g]
        self._schedule(edge_us + steady, lambda: self._confirm(g, level, edge_us))

    def _settle_filter(self, g: int, now_us: int) -> None:
        """Report g's last raw level if it has been steady for the filter time by now_us."""
        pending = self._pending.get(g)
        if pending is None:
            return
        level, first_us = pending
        steady = self._gpio.filter_us[g]
        if now_us - first_us < steady:
            return
        del self._pending[g]
        if ((self._view >> g) & 1) == level:
            return
        self._view ^= 1 << g
        self._emit(1 << g, first_us + steady)

    def _confirm(self, g: int, level: int, edge_us: int) -> None:
        if self._pending.get(g) != (level, edge_us):
            return  # a later edge took over (and judged this one)
        self._settle_filter(g, edge_us + self._gpio.filter_us[g])

    def _emit(self, changed: int, emu_us: int) -> None:
        if not changed & self._watched_bits():
            return
        tick = self._clock.tick_at(emu_us)
        any_added = False
        for slot in self.slots:
            if slot is not None and slot.running and slot.bits & changed:
                slot.buffer += p.REPORT.pack(slot.seqno & 0xFFFF, 0, tick, self._view)
                slot.seqno += 1
                any_added = True
        if any_added:
            self._request_flush()

    def keepalive(self, now_emu_us: int, silence_s: float = p.KEEPALIVE_S) -> None:
        now_s = time.monotonic()
        for slot in self.slots:
            if slot is not None and now_s - slot.last_emit_s >= silence_s:
                slot.buffer += p.REPORT.pack(
                    slot.seqno & 0xFFFF, p.NTFY_FLAGS_ALIVE, self._clock.tick_at(now_emu_us), self._view
                )
                slot.seqno += 1
        self._request_flush()

    def take_output(self) -> list[tuple[Sink, bytes]]:
        """Buffered reports per sink, emptied; the caller writes them on the loop thread."""
        out = []
        now_s = time.monotonic()
        for slot in self.slots:
            if slot is not None and slot.buffer:
                data = bytes(slot.buffer)
                slot.buffer.clear()
                slot.last_emit_s = now_s
                if slot.sink is not None:
                    out.append((slot.sink, data))
        return out
