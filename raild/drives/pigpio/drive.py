"""`PigpioDrive`: steps streamed to pigpiod as short padded waves.

Every move or jog is one or more *runs*, each a continuous stream from rest to
rest. A run is cut into segments (`segments.py`); each segment is one wave made
with `wave_create_and_pad` and queued with WAVE_MODE_ONE_SHOT_SYNC, so segments
play back to back with no seam and each plays wholly or not at all. The host
keeps at most `MAX_QUEUED` segments in pigpio (the one playing and the next),
learns which have finished from `wave_tx_at()`, deletes them and reuses their
memory for the next ones: a run of any length uses at most three padded waves
and the halt marker, and every run begins with `wave_clear`, so nothing leaks.

- Position: the steps of finished segments; at rest, of every segment sent.
  Exact after any stop, underrun or completed move.
- `request_stop()`: the continuation not yet sent is replaced by a deceleration
  ramp at the move's acceleration, from the speed the last sent segment ends at.
- Underrun: when the queue would run dry before the next segment could reach
  pigpiod (`SEND_MARGIN_US`), that segment is not sent; the motion ends at the
  end of what was sent (exact), is counted and logged, and the move continues
  with a new run that ramps up from rest.
- `halt_now()` (e-stop, limit switch): a marker wave sent in place of the
  stream kills it at once and toggles DIR (`raild.motion.halt`); the DIR edge's
  tick dates the halt against the run's timeline. An ambiguous or undatable
  halt is reported inexact.
- Limit switches use pigpio's glitch filter (`pins.limit_glitch_us`); a report
  is dated that much after the edge, which the drive subtracts again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import pigpio

from raild.config import Config
from raild.drives.pigpio.segments import (
    MAX_SEGMENT_STEPS,
    PAD_PERCENT,
    SEGMENT_US,
    Segment,
    Timeline,
    cut,
    decel_intervals,
    pulses,
)
from raild.drives.protocol import MoveResult, Progress, Reason, Side, SwitchListener
from raild.hw.connection import Hardware
from raild.hw.driver import disable_driver, disable_enable_pin, enable_level
from raild.hw.errors import HardwareUnavailable
from raild.hw.pigpio_facts import HALF_WRAP, NO_TX_WAVE, START_DELAY_US, TICK_WRAP, ticks_diff
from raild.hw.waves import create_wave, pigpio_pulses
from raild.motion.halt import HALT_TOLERANCE_US, marker_offset_us, marker_pulses
from raild.motion.profile import Kinematics, plan_profile

log = logging.getLogger("raild.motion")

MAX_QUEUED = 2  # segments in pigpio at once: the one playing and the next
SEND_MARGIN_US = 10_000  # less than this left in the queue: the next segment might arrive after it ran dry
# After an underrun the host has shown it can be that late: segments grow (more slack, a slower
# stop) and shrink back once it keeps up again.
MAX_SEGMENT_US = 50_000  # twice the base: more slack, but a stop still starts within ~100 ms
SEGMENT_GROWTH = 2.0
SEGMENT_SHRINK = 0.9
SHRINK_AFTER_SEGMENTS = 40  # about 1-2 s of motion
PROGRESS_PERIOD_S = 0.05
EDGE_WAIT_S = 1.0  # a notification arrives in ms; longer means it was lost
ENABLE_SETTLE_S = 0.002
PULSES_PER_CALL = 5400  # WVAG extension < 64 KiB
HALTED, UNDERRUN, LATE = -1, -2, -3  # _send's answers besides a wave id
START_RATE_SLACK = 1.01  # profile intervals are whole µs: the first one may round slightly fast


@dataclass
class _Run:
    direction: int
    dir_high: bool
    start_speed_steps_s: float = 0.0  # the fastest a segment may begin from rest
    stop_reason: Reason | None = None  # a decelerated stop was asked for (stop / home_switch)
    halt_reason: Reason | None = None  # halted at once
    halt_marker_sent: bool = False
    halt_blind: bool = False  # halted without a datable marker
    start_tick: int | None = None
    t_before: int = 0  # a tick read before the run's first send
    timeline: Timeline = field(default_factory=Timeline)
    queue: deque[tuple[int, int, int]] = field(default_factory=deque)  # (wid, run time it ends, steps by then)
    done_steps: int = 0
    done_us: int = 0
    sent_any: bool = False
    trip_tick: int | None = None
    exact: bool = True
    gap: bool = False  # a segment may have started late: the timeline no longer dates halts or trips
    stalled_maybe: bool = False  # a segment too fast to start from rest may have started from rest


class PigpioDrive:
    name = "pigpio"

    def __init__(self, config: Config, hw: Hardware) -> None:
        self.rc = config.rail
        self.pins = config.pins
        self.homing_switch = config.homing.switch
        self.hw = hw
        self._enabled = False
        self._run: _Run | None = None
        self._stop_requested = False
        self._home_side: Side | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake = asyncio.Event()
        self._dir_edges: deque[tuple[int, int]] = deque(maxlen=64)
        self._dir_changed = asyncio.Event()
        self._callbacks: list[Any] = []
        self._switch_listeners: list[SwitchListener] = []
        self._switches: dict[Side, bool] = {"min": False, "max": False}
        self._marker_id: int | None = None
        self._halts = 0  # bumped by every halt, so a send that raced one is noticed
        self._halt_guard = threading.Lock()
        self.underruns = 0
        self.late_starts = 0  # sends that may have come after the queue ran dry (see _send)
        self.late_stalls = 0  # of those, the ones too fast to start from rest: position given up
        self._last_halt: Reason = "estop"  # the reason of the newest halt_now
        self.segment_us = SEGMENT_US
        self._on_time = 0  # segments sent in time since the last underrun or resize
        self.segments_sent = 0
        self.runs = 0
        self.send_delay_hook: Callable[[], None] | None = None  # tests: stall the host before a send
        self.checked_send_hook: Callable[[], None] | None = None  # tests: stall between the check and the send
        self.sent_hook: Callable[[], None] | None = None  # tests: stall after the send was seen in time
        self.last_left_us: deque[int] = deque(maxlen=1000)  # queue time left at each send (benchmarks)

    # ----- set-up -----
    @property
    def motor_enabled(self) -> bool:
        return self._enabled

    @property
    def moving(self) -> bool:
        return self._run is not None

    def en_level(self, enabled: bool) -> int:
        return enable_level(self.pins, enabled)

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        pi, p = self.hw.pi, self.pins
        await self.hw.call(self._setup_pins)
        self._callbacks.append(pi.callback(p.dir, pigpio.EITHER_EDGE, self._dir_cb))
        for side in ("min", "max"):
            pin = p.limit_pin(side)
            if pin:
                self._switches[side] = self._tripped(await self.hw.call(pi.read, pin))
                self._callbacks.append(pi.callback(pin, pigpio.EITHER_EDGE, self._limit_cb(side)))
        self.hw.on_lost(lambda reason: self.lost())

    def _setup_pins(self) -> None:
        pi, p = self.hw.pi, self.pins
        disable_driver(pi, p)
        pi.set_mode(p.dir, pigpio.OUTPUT)
        pull = {"up": pigpio.PUD_UP, "down": pigpio.PUD_DOWN, "off": pigpio.PUD_OFF}[p.limit_pull]
        for pin in (p.limit_min, p.limit_max):
            if pin:
                pi.set_mode(pin, pigpio.INPUT)
                pi.set_pull_up_down(pin, pull)
                pi.set_glitch_filter(pin, p.limit_glitch_us)

    async def close(self) -> None:
        self.halt_now("stop", disable=True)
        for cb in self._callbacks:
            with contextlib.suppress(Exception):
                cb.cancel()
        self._callbacks.clear()
        with contextlib.suppress(Exception):
            await self.hw.call(self.hw.pi.wave_clear)

    async def enable(self) -> None:
        if self._enabled:
            return
        if self.pins.enable:
            await self.hw.call(self.hw.pi.write, self.pins.enable, self.en_level(True))
            await asyncio.sleep(ENABLE_SETTLE_S)
        self._enabled = True

    async def disable(self) -> None:
        if self.pins.enable:
            await self.hw.call(self.hw.pi.write, self.pins.enable, self.en_level(False))
        self._enabled = False

    def status(self) -> dict[str, object]:
        return {
            "name": self.name,
            "underruns": self.underruns,
            "late_starts": self.late_starts,
            "late_stalls": self.late_stalls,
            "segment_ms": self.segment_us / 1000,  # host time
            "segments_sent": self.segments_sent,
        }

    def on_lost(self, listener: Callable[[str], None]) -> None:
        self.hw.on_lost(listener)

    # ----- switches -----
    def on_switch(self, listener: SwitchListener) -> None:
        self._switch_listeners.append(listener)

    def switch_state(self, side: Side) -> bool:
        return self._switches[side]

    async def switch_pressed(self, side: Side) -> bool:
        """Read the switch now (the notification's copy lags by the glitch filter)."""
        pin = self.pins.limit_pin(side)
        if not pin:
            return False
        self._switches[side] = self._tripped(await self.hw.call(self.hw.pi.read, pin))
        return self._switches[side]

    def _tripped(self, level: int) -> bool:
        return (level == 1) == self.pins.limit_active_high

    def _limit_cb(self, side: Side) -> Callable[[int, int, int], None]:
        def cb(gpio: int, level: int, tick: int) -> None:  # pigpio's callback thread
            if level not in (0, 1):
                return
            tripped = self._tripped(level)
            self._switches[side] = tripped
            run = self._run
            if tripped and run is not None and run.halt_reason is None:
                edge_tick = (tick - self.pins.limit_glitch_us) % TICK_WRAP  # the filter reports it this late
                if side == self._home_side:
                    if run.trip_tick is None:
                        run.trip_tick = edge_tick
                    self._request(run, "home_switch")
                else:
                    run.trip_tick = edge_tick
                    self.halt_now("limit", disable=True)
            if self._loop is not None:
                self._loop.call_soon_threadsafe(self._tell_switch, side, tripped)

        return cb

    def _tell_switch(self, side: Side, tripped: bool) -> None:
        for listener in list(self._switch_listeners):
            listener(side, tripped)

    # ----- stopping (any thread) -----
    def request_stop(self) -> None:
        self._stop_requested = True
        run = self._run
        if run is not None:
            self._request(run, "stop")

    def _request(self, run: _Run, reason: Reason) -> None:
        if run.stop_reason is None:
            run.stop_reason = reason
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    def halt_now(self, reason: Reason, disable: bool = False) -> None:
        # The guard only keeps two halts from sending two markers; it is never waited for.
        pi = self.hw.pi
        got = self._halt_guard.acquire(blocking=False)
        self._halts += 1
        self._last_halt = reason
        try:
            run = self._run
            if got and run is not None and run.halt_reason is None and self._marker_id is not None and run.sent_any:
                pi.wave_send_once(self._marker_id)  # kills the stream; its DIR edge dates the halt
                run.halt_marker_sent = True
            else:
                pi.wave_tx_stop()
                if run is not None and run.sent_any and not run.halt_marker_sent:
                    run.halt_blind = True
            if disable and self.pins.enable:
                disable_enable_pin(pi, self.pins)
                self._enabled = False
            if run is not None and run.halt_reason is None:
                run.halt_reason = reason
        except Exception as exc:  # the connection is gone: pigpiod halts nothing for us now
            log.error("halt failed: %s", exc)
        finally:
            if got:
                self._halt_guard.release()
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    def lost(self) -> None:
        self._enabled = False
        run = self._run
        if run is not None and run.halt_reason is None:
            run.halt_reason = "lost"
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    # ----- DIR edges (pigpio's callback thread → the loop) -----
    def _dir_cb(self, gpio: int, level: int, tick: int) -> None:
        if level in (0, 1) and self._loop is not None:
            self._loop.call_soon_threadsafe(self._on_dir_edge, level, tick)

    def _on_dir_edge(self, level: int, tick: int) -> None:
        self._dir_edges.append((tick, level))
        self._dir_changed.set()

    async def _wait_dir_edge(self, level: int, after: int, timeout_s: float = EDGE_WAIT_S) -> int | None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while True:
            for tick, lvl in self._dir_edges:
                if lvl == level and 0 < ticks_diff(tick, after) < HALF_WRAP:
                    return tick
            remaining = deadline - loop.time()
            if remaining <= 0:
                return None
            self._dir_changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._dir_changed.wait(), remaining)

    # ----- moves -----
    async def move(
        self,
        delta_steps: int,
        speed_steps_s: float,
        accel_steps_s2: float,
        start_speed_steps_s: float,
        progress: Progress,
        home_side: Side | None = None,
    ) -> MoveResult:
        direction = 1 if delta_steps > 0 else -1
        kin = Kinematics(speed_steps_s, accel_steps_s2, min(start_speed_steps_s, speed_steps_s))
        plan_profile(abs(delta_steps), kin, 2 * self.rc.step_pulse_us)  # raises ProfileError before anything moves
        return await self._drive(direction, abs(delta_steps), kin, progress, home_side, jog=False)

    async def jog(
        self,
        direction: int,
        speed_steps_s: float,
        accel_steps_s2: float,
        start_speed_steps_s: float,
        limit_steps: int,
        progress: Progress,
    ) -> MoveResult:
        kin = Kinematics(speed_steps_s, accel_steps_s2, min(start_speed_steps_s, speed_steps_s))
        return await self._drive(1 if direction > 0 else -1, max(0, limit_steps), kin, progress, None, jog=True)

    async def _drive(
        self, direction: int, steps: int, kin: Kinematics, progress: Progress, home_side: Side | None, jog: bool
    ) -> MoveResult:
        self._home_side = home_side
        done = 0
        trip: int | None = None
        halts = self._halts
        try:
            while done < steps:
                run = _Run(direction, (direction > 0), kin.start_speed_steps_s)
                if self._halts != halts:
                    # Halted between runs (after an underrun): what ran is exact; nothing more may start.
                    return MoveResult(direction * done, self._last_halt, True, trip)
                if self._stop_requested:
                    return MoveResult(direction * done, "stop", True, trip)
                profile = plan_profile(steps - done, kin, 2 * self.rc.step_pulse_us)
                base = done

                def report(n: int, base: int = base) -> None:
                    progress(direction * (base + n))

                ran, exact, reason, run_trip = await self._stream(run, profile.intervals(), steps - done, kin, report)
                done += ran
                if run_trip is not None and trip is None:
                    trip = direction * (base + run_trip)
                if reason == "underrun" and exact:
                    continue
                if reason is not None or not exact:
                    return MoveResult(direction * done, reason, exact, trip)
            return MoveResult(direction * done, None, True, trip)
        finally:
            self._home_side = None
            self._stop_requested = False  # a stop asked for before or during this motion ends with it

    # ----- one run: rest to rest -----
    async def _stream(
        self, run: _Run, intervals: Iterable[int], planned: int, kin: Kinematics, report: Progress
    ) -> tuple[int, bool, Reason | None, int | None]:
        """Stream one run; (steps emitted, exact, reason, trip steps in this run)."""
        hw = self.hw
        self._run = run
        self.runs += 1
        source = iter(intervals)
        decelerating = False
        last_interval: int | None = None
        first = True
        exhausted = False
        underrun = False
        late = False
        held: Segment | None = None
        try:
            if self._stop_requested:
                run.stop_reason = run.stop_reason or "stop"
            await hw.call(self._prepare, run.dir_high)
            t_before = run.t_before = await hw.tick()
            while True:
                if run.halt_reason is not None:
                    break
                if run.stop_reason is not None and not decelerating:
                    # Replace what is not yet sent by a ramp down from the last sent speed.
                    decelerating = True
                    if last_interval is None:
                        source, held = iter(()), None  # nothing sent yet: nothing to slow down
                    else:
                        ramp = decel_intervals(last_interval, kin.end_speed, kin.accel_steps_s2)
                        if len(ramp) < planned - run.timeline.sent_steps:
                            source, held = iter(ramp), None
                # Top up the queue.
                while len(run.queue) < MAX_QUEUED and not exhausted and not underrun:
                    if run.sent_any and run.start_tick is None:
                        break  # the next send is checked against the run's dated start
                    if held is None:
                        chunk = cut(source, int(self.segment_us * self._ticks_per_us()), MAX_SEGMENT_STEPS)
                        if not chunk:
                            exhausted = True
                            break
                        held = Segment(tuple(chunk), self.rc.dir_setup_us if first else 0)
                    wid = await hw.call(self._send, run, held)
                    if wid == UNDERRUN:
                        underrun = True
                        break
                    if wid == LATE:
                        late = True
                        break
                    if wid < 0:
                        break
                    run.sent_any = True
                    run.timeline.add(held)
                    run.queue.append((wid, run.timeline.sent_us, run.timeline.sent_steps))
                    last_interval = held.last_interval_us or last_interval
                    self.segments_sent += 1
                    self._on_time += 1
                    if self._on_time >= SHRINK_AFTER_SEGMENTS and self.segment_us > SEGMENT_US:
                        self.segment_us = max(SEGMENT_US, int(self.segment_us * SEGMENT_SHRINK))
                        self._on_time = 0
                    held = None
                    first = False
                if run.halt_reason is not None or late:
                    break
                if run.start_tick is None:
                    if not run.sent_any:
                        break
                    edge = await self._wait_dir_edge(int(run.dir_high), t_before)
                    if edge is None:
                        log.warning("the stream's start was not reported; dating from the send")
                        edge = t_before
                    run.start_tick = edge
                    continue
                # Wait for the first queued segment to end (or a stop/halt), reporting progress.
                elapsed = self._elapsed(run, await hw.tick())
                report(self._estimate(run, elapsed))
                wait_us = run.queue[0][1] - elapsed if run.queue else 0
                if wait_us > 0:
                    self._wake.clear()
                    if run.halt_reason is None and (run.stop_reason is None or decelerating):
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(
                                self._wake.wait(), min(wait_us / hw.tick_rate_hz + 0.0005, PROGRESS_PERIOD_S)
                            )
                    continue
                await hw.call(self._check, run)
                if not run.queue:
                    if not exhausted:
                        underrun = True  # it ran dry before the rest was sent
                    break
            if run.halt_reason is not None:
                return await self._resolve_halt(run)
            if late:
                return await self._give_up_late(run, held)
            await self._wait_idle()
            if run.halt_reason is not None:  # halted while the stream played out
                return await self._resolve_halt(run)
            steps = run.timeline.sent_steps
            trip = self._trip_steps(run)
            report(steps)
            if trip is not None and run.gap:
                return steps, False, run.stop_reason, trip  # the trip cannot be dated: position unknown
            if underrun:
                self._note_underrun(steps)
                if run.stop_reason is None:
                    return steps, True, "underrun", trip
            reason: Reason | None = None
            if run.stop_reason == "home_switch" or (run.stop_reason is not None and steps < planned):
                reason = run.stop_reason  # a trip is reported even when the plan ended first
            return steps, True, reason, trip
        except HardwareUnavailable:
            return run.done_steps, False, "lost", None
        except asyncio.CancelledError:
            self.halt_now("stop")
            raise
        finally:
            self._run = None

    def _note_underrun(self, steps: int) -> None:
        self.underruns += 1
        self.segment_us = min(MAX_SEGMENT_US, int(self.segment_us * SEGMENT_GROWTH))
        self._on_time = 0
        log.warning(
            "step stream underrun: the host was late; the motion ended exactly after %d steps of this run "
            "and goes on from rest (%d underruns so far); segments now %d ms",
            steps,
            self.underruns,
            self.segment_us // 1000,
        )

    async def _give_up_late(self, run: _Run, seg: Segment | None) -> tuple[int, bool, Reason | None, int | None]:
        """A segment faster than the motor can start may have begun from rest (the host froze
        between its check and the send): the motor may have stalled, so the stream was stopped
        at once and the position is given up rather than claimed."""
        with contextlib.suppress(HardwareUnavailable):
            await self._wait_idle()
        self.late_stalls += 1
        log.error(
            "the host fell behind while streaming: a segment at %.0f steps/s may have started from rest "
            "(the motor starts at %.0f); the motor may have stalled: motion stopped, position unknown, "
            "home again (%d so far)",
            self._first_rate(seg),
            run.start_speed_steps_s,
            self.late_stalls,
        )
        return run.timeline.sent_steps + (seg.steps if seg else 0), False, "underrun", None

    @staticmethod
    def _first_rate(seg: Segment | None) -> float:
        return 1e6 / seg.intervals[0] if seg is not None and seg.intervals else 0.0

    def _startable(self, run: _Run, seg: Segment) -> bool:
        """Whether the segment can begin from rest: its first step no faster than the start speed
        (the profile then ramps from there at the move's acceleration, or decelerates)."""
        return self._first_rate(seg) <= run.start_speed_steps_s * START_RATE_SLACK

    def _prepare(self, dir_high: bool) -> None:
        """Free every wave (idle), make the halt marker, and set DIR opposite so the run's first
        pulse makes a DIR edge that dates its start."""
        pi = self.hw.pi
        pi.wave_clear()
        marker = marker_pulses(self.pins.step, self.pins.dir, dir_high, self.rc.step_pulse_us)
        self._marker_id = create_wave(pi, marker)
        pi.write(self.pins.dir, 0 if dir_high else 1)

    def _send(self, run: _Run, seg: Segment) -> int:
        """On the pigpio thread: load one segment as a padded wave and queue it (SYNC).

        Returns its wave id, HALTED, or UNDERRUN when the queue has run dry or would before
        the segment could join it: then it is not sent, so it can never start from rest at
        speed. Checking and sending in one go keeps that window to a few pigpiod round trips.
        """
        pi = self.hw.pi
        train = pigpio_pulses(pulses(seg, self.pins.step, self.pins.dir, run.dir_high, self.rc.step_pulse_us))
        pi.wave_add_new()
        for i in range(0, len(train), PULSES_PER_CALL):
            pi.wave_add_generic(train[i : i + PULSES_PER_CALL])
        wid = pi.wave_create_and_pad(PAD_PERCENT)  # a third slot is always free: at most two are queued
        if self.send_delay_hook is not None:
            self.send_delay_hook()
        if run.start_tick is not None and run.queue:
            self._retire(run, pi.wave_tx_at())
            left = run.queue[-1][1] - self._elapsed(run, pi.get_current_tick()) if run.queue else 0
            self.last_left_us.append(left)
            if left < SEND_MARGIN_US * self._ticks_per_us():
                log.debug("underrun: %d µs left in the queue", left)
                pi.wave_delete(wid)
                return UNDERRUN
        if self.checked_send_hook is not None:
            self.checked_send_hook()
        halts = self._halts
        if run.halt_reason is not None:
            pi.wave_delete(wid)
            return HALTED
        pi.wave_send_using_mode(wid, pigpio.WAVE_MODE_ONE_SHOT_SYNC)
        if run.start_tick is not None and run.queue:
            # pigpiod answers commands in order: a queued wave still playing after the send
            # means the send joined the queue in time, whatever the host does next.
            in_time = pi.wave_tx_at() in {entry[0] for entry in run.queue}
            if self.sent_hook is not None:
                self.sent_hook()
            # Otherwise a tick past the queue's end means the send may have arrived after it ran
            # dry, and the segment then started from rest at speed (a real motor may stall).
            late_us = 0 if in_time else self._elapsed(run, pi.get_current_tick()) - run.queue[-1][1]
            if late_us > 0:
                self.late_starts += 1
                run.gap = True
                log.warning("a segment may have started up to %d µs after the stream ran dry", late_us)
                if not self._startable(run, seg) and run.halt_reason is None:
                    pi.wave_tx_stop()  # a stalled motor must not be fed more steps
                    run.stalled_maybe = True
                    return LATE
        if self._halts != halts or run.halt_reason is not None:
            # A halt went out while this was sent: the segment may play after the marker.
            pi.wave_tx_stop()
            run.exact = False
        return wid

    def _ticks_per_us(self) -> float:
        """pigpio ticks per host µs: 1 on a Pi; more on a time-scaled emulator. Segments and the
        send margin are sized in host time, since host lateness is what they absorb."""
        return max(1.0, self.hw.tick_rate_hz / 1e6)

    def _check(self, run: _Run) -> int:
        """On the pigpio thread: retire finished segments; returns wave_tx_at()."""
        at = self.hw.pi.wave_tx_at()
        self._retire(run, at)
        return at

    def _retire(self, run: _Run, at: int) -> None:
        """Forget (and delete) the queued segments that have finished, given wave_tx_at()."""
        ids = [entry[0] for entry in run.queue]
        if at in ids:
            finished = ids.index(at)
        elif at == NO_TX_WAVE:  # everything sent has played
            finished = len(ids)
        else:
            return  # WAVE_NOT_FOUND (between waves): ask again later
        for _ in range(finished):
            wid, run.done_us, run.done_steps = run.queue.popleft()
            self.hw.pi.wave_delete(wid)

    def _elapsed(self, run: _Run, now_tick: int) -> int:
        assert run.start_tick is not None
        e = ticks_diff(now_tick, run.start_tick)
        return 0 if e >= HALF_WRAP else e

    def _estimate(self, run: _Run, elapsed: int) -> int:
        est = run.timeline.steps_at(elapsed)
        return run.done_steps if est is None else max(run.done_steps, est)

    def _trip_steps(self, run: _Run) -> int | None:
        if run.trip_tick is None or run.start_tick is None:
            return None
        at = ticks_diff(run.trip_tick, run.start_tick)
        if at >= HALF_WRAP:
            return 0
        steps = run.timeline.steps_at(at)
        return steps

    async def _wait_idle(self) -> None:
        for _ in range(1000):
            if not await self.hw.call(self.hw.pi.wave_tx_busy):
                return
            await asyncio.sleep(0.001)

    async def _resolve_halt(self, run: _Run) -> tuple[int, bool, Reason | None, int | None]:
        reason = run.halt_reason
        if reason == "lost":
            return run.done_steps, False, "lost", None
        if not run.sent_any:
            return 0, run.exact, reason, None
        steps, exact = run.done_steps, False
        if run.gap:
            log.warning("a halt after a late segment cannot be dated; position unknown")
        if run.start_tick is None and run.halt_marker_sent:  # halted before the start was dated
            run.start_tick = await self._wait_dir_edge(int(run.dir_high), run.t_before, 0.1)
        if run.halt_marker_sent and not run.halt_blind and run.start_tick is not None:
            edge = await self._wait_dir_edge(int(not run.dir_high), run.start_tick)
            if edge is None:
                log.warning("the halt marker's DIR edge was not reported; position unknown")
            else:
                offset = START_DELAY_US + marker_offset_us(self.rc.step_pulse_us)
                halt_at = ticks_diff(edge, run.start_tick) - offset
                if halt_at >= HALF_WRAP:
                    steps, exact = 0, True
                else:
                    steps, exact = run.timeline.steps_around(halt_at, HALT_TOLERANCE_US)
        with contextlib.suppress(HardwareUnavailable):
            await self._wait_idle()
        return steps, exact and run.exact and not run.gap, reason, self._trip_steps(run)
