"""`Stepper`: the one owner of pigpio's wave engine and of the driver's EN pin.

It loads a wave program, starts it, sleeps until its planned end (reporting
progress from the pigpio tick) and says how many steps it emitted, exactly or
admittedly not:
- before each program DIR is set to the opposite level, so the program's first
  pulse makes a DIR edge whose notification tick dates the start exactly;
- a completed program (wave_tx_busy = 0 after its planned end) emitted all its
  steps;
- a halted one is dated by its halt marker (see `halt.py`); when a STEP edge is
  too close to the halt to tell, the count is reported inexact, never guessed.

`halt_now()` may be called from any thread (the e-stop, pigpio's callback thread)
and never waits for anything a running program holds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pigpio

from raild.config import Config
from raild.hw.errors import HardwareUnavailable as HwUnavailable
from raild.hw.pigpio_facts import ticks_diff
from raild.motion.halt import HaltResult, marker_pulses, steps_before_halt, steps_in_window
from raild.motion.loader import load
from raild.motion.program import WaveProgram

log = logging.getLogger("raild.motion")

STATUS_PERIOD_S = 0.05  # progress ≥ 20 times a second while a program runs
EDGE_WAIT_S = 1.0  # a notification arrives in ms; longer means it was lost
ENABLE_SETTLE_S = 0.002  # drivers wake within ~1 ms of EN


@dataclass
class RunResult:
    steps: int  # steps emitted, in the program's direction
    exact: bool
    reason: str | None  # None: completed; else "estop" | "limit" | "stop" | "home_switch" | "lost"
    trip_steps: int | None = None  # steps emitted when the home switch tripped (homing)


class _Run:
    """One program on pigpiod and what is known about its progress."""

    def __init__(self, program: WaveProgram) -> None:
        self.program = program
        self.marker_id: int | None = None
        self.chain_sent = False
        self.start_tick: int | None = None
        self.t_before = 0
        self.t_after = 0
        self.halt_sent = False  # the marker went out
        self.halt_blind = False  # wave_tx_stop went out (no marker available, or a halt raced another)
        self.reason: str | None = None
        self.trip_tick: int | None = None
        self.base_exact = True  # False when a halt raced the start (steps may have met a disabled driver)


class Stepper:
    def __init__(self, config: Config, hw: Any, latched: Callable[[], str | None]) -> None:
        self.rc = config.rail
        self.pins = config.pins
        self.hw = hw
        self._latched = latched  # "estop" / "fault" while one is latched: no program may start
        self.motor_enabled = False
        self._halt_guard = threading.Lock()  # held only while one halt is sent; never by a program
        self._run: _Run | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake = asyncio.Event()
        self._dir_edges: deque[tuple[int, int]] = deque(maxlen=64)
        self._dir_changed = asyncio.Event()
        self._callback: Any = None

    def attach(self) -> None:
        """Start listening to DIR edges (call on the event loop, after the pins are set up)."""
        self._loop = asyncio.get_running_loop()
        self._callback = self.hw.pi.callback(self.pins.dir, pigpio.EITHER_EDGE, self._dir_cb)

    def detach(self) -> None:
        if self._callback is not None:
            with contextlib.suppress(Exception):
                self._callback.cancel()
            self._callback = None

    @property
    def running(self) -> bool:
        return self._run is not None

    def note_trip(self, tick: int) -> bool:
        """A limit switch tripped at `tick`: True if it happened in a running program."""
        run = self._run
        if run is None or run.reason is not None:
            return False
        run.trip_tick = tick
        return True

    def lost(self) -> None:
        """The connection is gone: end any program without waiting for pigpiod."""
        self.motor_enabled = False
        if self._run is not None and self._run.reason is None:
            self._run.reason = "lost"
        self._wake.set()

    # ----- the driver -----
    def en_level(self, enabled: bool) -> int:
        return int(enabled) ^ int(self.pins.enable_active_low)

    async def enable(self) -> None:
        if self.motor_enabled:
            return
        if self.pins.enable:
            await self.hw.call(self.hw.pi.write, self.pins.enable, self.en_level(True))
            await asyncio.sleep(ENABLE_SETTLE_S)
        self.motor_enabled = True

    async def disable(self) -> None:
        if self.pins.enable:
            await self.hw.call(self.hw.pi.write, self.pins.enable, self.en_level(False))
        self.motor_enabled = False

    # ----- halting (any thread; takes no lock a program holds) -----
    def halt_now(self, reason: str, disable: bool = False) -> None:
        # The guard only keeps two halts from sending two markers. It is never waited for:
        # if another thread holds it (a second halt, or a stop program being swapped in),
        # this halt goes out blind at once and the position is given up instead.
        pi = self.hw.pi
        got = self._halt_guard.acquire(blocking=False)
        try:
            run = self._run
            # `reason` is set last: the move's coroutine reads it without the guard and
            # must find the halt's kind (marker or blind) already recorded.
            if not got:
                pi.wave_tx_stop()
                if run is not None:
                    run.halt_blind = True
                    run.reason = run.reason or reason
            elif run is not None and run.reason is None:
                if run.chain_sent and run.marker_id is not None:
                    pi.wave_send_once(run.marker_id)
                    run.halt_sent = True
                else:
                    pi.wave_tx_stop()
                    run.halt_blind = True
                run.reason = reason
            else:
                pi.wave_tx_stop()
            if disable and self.pins.enable:
                pi.write(self.pins.enable, self.en_level(False))
                self.motor_enabled = False
        except Exception as exc:  # the connection is gone: pigpiod halts nothing for us now
            log.error("halt failed: %s", exc)
        finally:
            if got:
                self._halt_guard.release()
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    # ----- DIR edges (pigpio's callback thread → the loop) -----
    def _dir_cb(self, gpio: int, level: int, tick: int) -> None:
        if level in (0, 1) and self._loop is not None:
            self._loop.call_soon_threadsafe(self._on_dir_edge, level, tick)

    def _on_dir_edge(self, level: int, tick: int) -> None:
        self._dir_edges.append((tick, level))
        self._dir_changed.set()

    # ----- running a program -----
    async def run(self, program: WaveProgram, progress: Callable[[int], None]) -> RunResult:
        """Run `program` to its end or its halt; `progress(steps)` as it goes."""
        hw, pi = self.hw, self.hw.pi
        run = _Run(program)
        marker = marker_pulses(self.pins.step, self.pins.dir, program.dir_high, self.rc.step_pulse_us)
        self._run = run
        try:
            loaded = await hw.call(load, pi, program, marker, True)
            run.marker_id = loaded.marker_id
            await hw.call(pi.write, self.pins.dir, 0 if program.dir_high else 1)
            run.t_before = await hw.tick()
            if run.reason is None and self._latched():
                run.reason = self._latched()
            if run.reason is not None:
                return RunResult(0, True, run.reason)
            await hw.call(pi.wave_chain, loaded.chain)
            run.chain_sent = True
            run.t_after = await hw.tick()
            latched = self._latched()
            if run.reason is None and latched:
                run.base_exact = False
                self.halt_now(latched)
            if run.reason is not None and not run.halt_sent:
                # a halt raced the start: send it again now that the marker can date it; any
                # steps in between may have met a disabled driver, so the count is not trusted
                reason, run.reason = run.reason, None
                run.base_exact = False
                self.halt_now(reason)
            edge = await self._wait_dir_edge(int(program.dir_high), run.t_before)
            run.start_tick = edge
            return await self._follow(run, progress)
        except HwUnavailable:
            return RunResult(0, False, "lost")
        finally:
            self._run = None

    async def _wait_dir_edge(self, level: int, after: int, timeout_s: float = EDGE_WAIT_S) -> int | None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while True:
            for tick, lvl in self._dir_edges:
                if lvl == level and 0 < ticks_diff(tick, after) < 2**31:
                    return tick
            remaining = deadline - loop.time()
            if remaining <= 0:
                return None
            self._dir_changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._dir_changed.wait(), remaining)

    async def _follow(self, run: _Run, progress: Callable[[int], None]) -> RunResult:
        """Sleep until the program's planned end (publishing progress), or until halted."""
        hw, program = self.hw, run.program
        start = run.start_tick if run.start_tick is not None else run.t_before
        while run.reason is None:
            now = await hw.tick()
            elapsed = ticks_diff(now, start)
            if elapsed >= 2**31:
                elapsed = 0
            progress(program.steps_at(elapsed))
            remaining_us = program.duration_us - elapsed
            if remaining_us <= 0:
                if not await hw.call(hw.pi.wave_tx_busy):
                    return RunResult(program.steps, run.base_exact, None)
                remaining_us = 1000
            self._wake.clear()
            if run.reason is None:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), min(remaining_us / hw.tick_rate_hz, STATUS_PERIOD_S))
        return await self._resolve_halt(run, start)

    async def _resolve_halt(self, run: _Run, start: int) -> RunResult:
        program = run.program
        if run.reason == "lost":
            return RunResult(0, False, "lost")
        if run.halt_sent and not run.halt_blind and run.start_tick is not None:
            edge = await self._wait_dir_edge(int(not program.dir_high), run.start_tick)
            if edge is None:
                log.warning("the halt marker's DIR edge was not reported; position unknown")
                result = HaltResult(0, False)
            else:
                result = steps_before_halt(program, run.start_tick, edge, self.rc.step_pulse_us)
        else:
            after = await self.hw.tick()
            result = steps_in_window(program, 0, ticks_diff(after, start))
            if not run.chain_sent:
                result = HaltResult(0, True)
        trip = None
        if run.trip_tick is not None and run.start_tick is not None:
            trip = program.steps_at(ticks_diff(run.trip_tick, run.start_tick))
        with contextlib.suppress(HwUnavailable):
            for _ in range(1000):  # the marker wave lasts a few µs; this is a formality
                if not await self.hw.call(self.hw.pi.wave_tx_busy):
                    break
                await asyncio.sleep(0.001)
        return RunResult(result.steps, result.exact and run.base_exact, run.reason, trip)
