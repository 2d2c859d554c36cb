"""grbl 1.1's protocol and state machine, driving one axis of the virtual rail.

Bytes arrive with `feed(data, now_us)`; answers leave through `output`. The
real-time bytes (`?` `!` `~` 0x18 0x85, and the override bytes, which are
accepted and ignored) are picked off at once; everything else goes through the
128-byte receive buffer (bytes beyond it are lost, as on the board) and is
executed a line at a time. A motion line waits in the parser while the 15-block
planner is full, so its `ok` comes late and the buffer fills: a character-
counting sender sees exactly grbl's flow control. `advance(now_us)` runs the
stepper up to the emulated time, and every step goes to the virtual rail as a
STEP pulse ($0 µs wide) with DIR, so lost steps, stalls and switches are the
rail's own.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from raild.drives.grbl.codes import AXES, LINE_MAX_CHARS, PLANNER_BLOCKS, RX_BUFFER_BYTES
from raild.sim.grbl import gcode
from raild.sim.grbl import settings as eeprom
from raild.sim.grbl.gcode import GcodeError
from raild.sim.grbl.motion import Block, Stepper

VERSION = "1.1h"
BANNER = f"Grbl {VERSION} ['$' for help]"
UNLOCK_MSG = "[MSG:'$H'|'$X' to unlock]"
HELP = "[HLP:$$ $# $G $I $N $x=val $Nx=line $J=line $SLP $C $X $H ~ ! ? ctrl-x]"
REALTIME_OVERRIDES = range(0x90, 0xA0)
DIR_SETUP_US = 10
SEARCH_SCALAR = 1.5  # homing search distance in units of max travel
LOCATE_SCALAR = 5.0  # locating approach distance in units of pull-off

State = Literal["Idle", "Run", "Hold", "Jog", "Alarm", "Home", "Sleep"]
StepOut = Callable[[int, int, bool], None]  # (emu_us, direction, driver_enabled)
SwitchIn = Callable[[], bool]  # the axis limit input (both switches share it)


def lround(x: float) -> int:
    """C's lround: halves away from zero (what grbl uses for mm -> steps)."""
    return math.floor(abs(x) + 0.5) * (1 if x >= 0 else -1)


@dataclass
class _Homing:
    phase: str  # "search" | "pulloff1" | "locate" | "pulloff2"
    toward: int  # direction of the switch
    wait_until_us: float = 0.0
    tripped: bool = False
    block_started: bool = False


@dataclass
class _Modal:
    inches: bool = False
    incremental: bool = False
    motion: int = 0
    feed_mm_min: float = 0.0
    coolant: int = 9
    other_axes: dict[str, float] = field(default_factory=dict)


class GrblMachine:
    def __init__(
        self,
        values: dict[int, float],
        axis: str,
        output: Callable[[bytes], None],
        step_out: StepOut,
        switch_in: SwitchIn,
        coolant_out: Callable[[float, bool], None] | None = None,
    ) -> None:
        self.settings = values
        self._coolant_out = coolant_out  # (emulated µs, flood pin on): the M8 output's edges
        self.flood = False
        self._taken_us = 0.0  # when the line being executed was taken from the buffer
        self._done_us: float | None = None  # when the last line really ended (a dwell), if before now
        self.axis = axis
        self.axis_i = AXES.index(axis)
        self.output = output
        self._step_out = step_out
        self._switch_in = switch_in
        self.stepper = Stepper()
        self.state: State = "Alarm" if self.settings[22] else "Idle"
        self.critical = False  # a limit alarm: nothing but a reset is taken
        self.rx = bytearray()
        self.rx_overflow_bytes = 0
        self.pending: tuple[str, float] | None = None  # (cleaned line, when it was taken)
        self.modal = _Modal()
        self.gc_steps = 0  # where the parser believes the axis ends up (planner target)
        self.jog_cancel = False
        self.homing: _Homing | None = None
        self._reports = 0
        self._dwell_s: float | None = None  # a G4 waiting for the planner to empty, then this long
        self._dwell_until_us: float | None = None
        self._limit_was = False
        self.gc_mm = 0.0
        self.lines_executed = 0

    # ----- settings in units -----
    @property
    def spm(self) -> float:
        return self.settings[100 + self.axis_i]

    @property
    def accel_steps(self) -> float:
        return self.settings[120 + self.axis_i] * self.spm

    def _rate_steps(self, mm_min: float) -> float:
        return min(mm_min, self.settings[110 + self.axis_i]) * self.spm / 60.0

    # ----- power-up -----
    def power_up(self) -> None:
        self._send(f"\r\n{BANNER}")
        if self.state == "Alarm":
            self._send(UNLOCK_MSG)

    # ----- input -----
    def feed(self, data: bytes, now_us: float) -> None:
        self.advance(now_us)
        for byte in data:
            if byte == 0x18:
                self._reset(now_us)
            elif byte == 0x3F:  # ?
                self._status(now_us)
            elif byte == 0x21:  # !
                self._feed_hold(now_us)
            elif byte == 0x7E:  # ~
                self._cycle_start(now_us)
            elif byte == 0x85:
                if self.state == "Jog":
                    self.jog_cancel = True
                    self.stepper.hold(now_us)
            elif byte >= 0x80:
                continue  # other real-time and unknown bytes never reach the buffer
            elif len(self.rx) >= RX_BUFFER_BYTES:
                self.rx_overflow_bytes += 1
            else:
                self.rx.append(byte)
                if byte in (0x0A, 0x0D):  # the main loop parses a line as soon as it is complete
                    self._run_lines(now_us)
        self.advance(now_us)

    # ----- time -----
    def advance(self, now_us: float) -> None:
        for _ in range(64):  # bounded: each pass either moves on or stops
            self.stepper.run_until(now_us, self._on_step)
            changed = self._settle_state(now_us)
            changed |= self._run_lines(now_us)
            if not changed:
                return

    def _on_step(self, t_us: float, direction: int) -> bool:
        self._step_out(int(t_us), direction, self.state != "Sleep")
        tripped = self._switch_in()
        was, self._limit_was = self._limit_was, tripped
        if self.state == "Home" and self.homing is not None:
            if self.homing.phase in ("search", "locate") and tripped:
                self.homing.tripped = True
                self.homing.wait_until_us = t_us + self.settings[26] * 1000.0
                return False
            return True
        if self.settings[21] and tripped and not was:
            self._critical_alarm(1, t_us)
            return False
        return True

    def _settle_state(self, now_us: float) -> bool:
        st = self.stepper
        if self.state in ("Run", "Jog") and not st.queue:
            if self.state == "Jog":
                self._sync_gc()
            self.state = "Idle"
            return True
        if self.state == "Jog" and self.jog_cancel and st.hold_complete:
            st.flush()
            self.jog_cancel = False
            self._sync_gc()
            self.state = "Idle"
            return True
        if self.state == "Home" and self.homing is not None:
            return self._homing_step(now_us)
        return False

    # ----- real-time commands -----
    def _feed_hold(self, now_us: float) -> None:
        if self.state in ("Alarm", "Home", "Sleep") or self.critical:
            return
        if self.state == "Jog":  # a feed hold cancels a jog
            self.jog_cancel = True
            self.stepper.hold(now_us)
            return
        if self.state in ("Run", "Idle"):
            self.stepper.hold(now_us)
            self.state = "Hold"

    def _cycle_start(self, now_us: float) -> None:
        if self.state == "Hold" and self.stepper.hold_complete:
            self.stepper.resume(now_us)
            self.state = "Run" if self.stepper.queue else "Idle"

    def _reset(self, now_us: float) -> None:
        moving = self.state in ("Run", "Jog") or (self.state == "Hold" and not self.stepper.hold_complete)
        alarm = 6 if self.state == "Home" else 3 if moving else 0
        self.stepper.abort(now_us)
        self.rx.clear()
        self.pending = None
        self.homing = None
        self._dwell_s = None
        self._dwell_until_us = None
        self._done_us = None
        self.jog_cancel = False
        self.modal = _Modal()
        self._set_flood(False, now_us)  # grbl's reset stops spindle and coolant
        self._sync_gc()
        self._reports = 0
        if alarm:
            self._send(f"ALARM:{alarm}")
        if alarm or self.critical or self.state in ("Alarm", "Sleep"):
            self.state = "Alarm"
        else:
            self.state = "Idle"
        self.critical = False
        self._send(f"\r\n{BANNER}")
        if self.state == "Alarm":
            self._send(UNLOCK_MSG)

    def _critical_alarm(self, code: int, t_us: float) -> None:
        self.stepper.abort(t_us)
        self.pending = None
        self.state = "Alarm"
        self.critical = True
        self._send(f"ALARM:{code}")
        self._send("[MSG:Reset to continue]")

    def _status(self, now_us: float) -> None:
        if self.state == "Home" or self.critical:
            return  # grbl does not answer during homing or a critical alarm
        state: str = self.state
        if state == "Hold":
            state = "Hold:0" if self.stepper.hold_complete else "Hold:1"
        pos = [self.modal.other_axes.get(a, 0.0) for a in AXES]
        pos[self.axis_i] = self.stepper.position / self.spm
        mask = int(self.settings[10])
        fields = [state, ("MPos:" if mask & 1 else "WPos:") + ",".join(f"{p:.3f}" for p in pos)]
        if mask & 2:
            fields.append(f"Bf:{PLANNER_BLOCKS - len(self.stepper.queue)},{RX_BUFFER_BYTES - len(self.rx)}")
        feed = self.stepper.speed(now_us) / self.spm * 60.0
        fields.append(f"FS:{feed:.0f},0")
        if self._switch_in():
            fields.append(f"Pn:{self.axis}")
        moving = self.state in ("Run", "Jog", "Hold")
        if self._reports % (10 if moving else 30) == 0:
            fields.append("WCO:0.000,0.000,0.000")
        self._reports += 1
        self._send("<" + "|".join(fields) + ">")

    # ----- lines -----
    def _run_lines(self, now_us: float) -> bool:
        progressed = False
        while not self.critical and self.state != "Sleep":
            before = self.state
            if self.pending is None:
                line = self._take_line()
                if line is None:
                    self._done_us = None  # a line that comes later starts when it comes
                    return progressed
                done_us, self._done_us = self._done_us, None
                self.pending = (line, now_us if done_us is None else min(now_us, done_us))
            self._taken_us = self.pending[1]
            done = self._execute(self.pending[0], now_us)
            if not done:
                return progressed or self.state != before
            self.pending = None
            self.lines_executed += 1
            progressed = True
        return progressed

    def _take_line(self) -> str | None:
        for i, byte in enumerate(self.rx):
            if byte in (0x0A, 0x0D):
                line = gcode.clean(self.rx[:i].decode("ascii", "replace"))
                del self.rx[: i + 1]
                return line if len(line) < LINE_MAX_CHARS else "\x00overflow"
        return None

    def _execute(self, line: str, now_us: float) -> bool:
        """Run one line; False while it must wait (planner full, homing, dwell)."""
        if line == "\x00homing":
            return False  # the homing cycle answers when it ends
        try:
            if line == "\x00overflow":
                raise GcodeError(11)
            if line.startswith("$"):
                return self._system(line, now_us)
            if not line:
                self._send("ok")
                return True
            if self.state in ("Alarm", "Jog"):
                raise GcodeError(9)
            return self._gcode(line, now_us)
        except GcodeError as exc:
            self._send(f"error:{exc.code}")
            return True

    def _system(self, line: str, now_us: float) -> bool:
        cmd = line[1:]
        if cmd == "":
            self._send(HELP)
        elif cmd.startswith("J"):
            if self.state not in ("Idle", "Jog"):
                raise GcodeError(8)
            if not cmd.startswith("J="):
                raise GcodeError(3)
            return self._jog(cmd[2:], now_us)
        elif cmd[:1] in ("$", "G", "X", "C"):
            if len(cmd) != 1:
                raise GcodeError(3)
            if cmd == "$":
                if self.state in ("Run", "Hold", "Jog"):
                    raise GcodeError(8)
                for text in eeprom.listing(self.settings):
                    self._send(text)
            elif cmd == "G":
                units = "G20" if self.modal.inches else "G21"
                dist = "G91" if self.modal.incremental else "G90"
                self._send(
                    f"[GC:G{self.modal.motion} G54 G17 {units} {dist} G94 M5 M{self.modal.coolant} T0 "
                    f"F{self.modal.feed_mm_min:g} S0]"
                )
            elif cmd == "X":
                if self.state == "Alarm":
                    self._send("[MSG:Caution: Unlocked]")
                    self.state = "Idle"
            else:
                raise GcodeError(3)  # check mode is not emulated
        else:
            if self.state not in ("Idle", "Alarm"):
                raise GcodeError(8)
            if cmd == "H":
                return self._home(now_us)
            if cmd == "SLP":
                self._set_flood(False, now_us)  # sleep stops spindle and coolant
                self.state = "Sleep"  # the driver is disabled: steps would be lost
                self._send("[MSG:Sleeping]")
            elif cmd == "I":
                self._send(f"[VER:{VERSION}.20190830:]")
                self._send(f"[OPT:V,{PLANNER_BLOCKS},{RX_BUFFER_BYTES}]")
            elif cmd == "N":
                self._send("$N0=")
                self._send("$N1=")
            elif cmd == "#":
                for name in ("G54", "G55", "G56", "G57", "G58", "G59", "G28", "G30", "G92"):
                    self._send(f"[{name}:0.000,0.000,0.000]")
                self._send("[TLO:0.000]")
                self._send("[PRB:0.000,0.000,0.000:0]")
            else:
                self._store_setting(cmd)
        self._send("ok")
        return True

    def _store_setting(self, cmd: str) -> None:
        number_text, eq, value_text = cmd.partition("=")
        if not number_text or not number_text.isdigit():
            raise GcodeError(2 if not eq else 3)
        if not eq:
            raise GcodeError(3)
        try:
            value = float(value_text)
        except ValueError:
            raise GcodeError(2) from None
        if not math.isfinite(value):
            raise GcodeError(2)
        eeprom.apply(self.settings, int(number_text), value)

    def _target_mm(self, block: gcode.Block, inches: bool, incremental: bool) -> float | None:
        scale = 25.4 if inches else 1.0
        relative = incremental and not block.machine
        for other, v in block.axes.items():
            if other != self.axis:  # accepted; nothing is attached to the other axes
                base = self.modal.other_axes.get(other, 0.0) if relative else 0.0
                self.modal.other_axes[other] = base + v * scale
        value = block.axes.get(self.axis)
        if value is None:
            return None
        return (self.gc_mm if relative else 0.0) + value * scale

    def _sync_gc(self) -> None:
        self.gc_steps = self.stepper.position
        self.gc_mm = self.stepper.position / self.spm

    def _soft_limit_ok(self, target_steps: int) -> bool:
        if not self.settings[20]:
            return True
        travel_steps = self.settings[130 + self.axis_i] * self.spm
        return -travel_steps - 0.5 <= target_steps <= 0.5

    def _gcode(self, line: str, now_us: float) -> bool:
        if self._dwell_s is not None:
            if self.stepper.queue:
                return False
            if self._dwell_until_us is None:  # the dwell starts when the motion (and line) before it ended
                self._dwell_until_us = max(self.stepper.rest_since_us, self._taken_us) + self._dwell_s * 1e6
            if now_us < self._dwell_until_us:
                return False
            self._done_us = self._dwell_until_us  # the next line starts then, not at this tick
            self._dwell_s = self._dwell_until_us = None
            self._send("ok")
            return True
        block = gcode.parse(line)
        coolant = [c for c in block.mcodes if c in (8, 9)]
        if coolant and self.stepper.queue:
            return False  # grbl's coolant_sync: the planner empties before the pin changes
        inches = block.inches if block.inches is not None else self.modal.inches
        motion = block.motion if block.motion is not None else self.modal.motion
        feed = self.modal.feed_mm_min
        if "F" in block.words:
            feed = block.words["F"] * (25.4 if inches else 1.0)
        if block.axes and motion == 1 and feed <= 0:
            raise GcodeError(22)
        if block.dwell:
            self._commit_modal(block, inches, motion, feed)
            self._dwell_s = block.words["P"]
            self._dwell_until_us = None
            return self._gcode(line, now_us)
        incremental = block.incremental if block.incremental is not None else self.modal.incremental
        if block.axes and len(self.stepper.queue) >= PLANNER_BLOCKS:
            return False  # wait for room; the line stays in the parser
        target_mm = self._target_mm(block, inches, incremental)
        self._commit_modal(block, inches, motion, feed)
        if 2 in block.mcodes or 30 in block.mcodes:
            self.modal = _Modal(feed_mm_min=0.0)
            self._set_flood(False, now_us)
        if coolant:
            t_us = max(self.stepper.rest_since_us, self._taken_us)
            self._set_flood(coolant[-1] == 8, t_us)
            self._done_us = t_us  # the line after it (a dwell) starts with the pin change
        if target_mm is not None:
            target = lround(target_mm * self.spm)
            if not self._soft_limit_ok(target):
                self._critical_alarm(2, now_us)
                return True
            rate = self.settings[110 + self.axis_i] if motion == 0 else feed
            self._plan(target, rate, "line", now_us)
            self.gc_mm = target_mm
        self._send("ok")
        return True

    def _set_flood(self, on: bool, t_us: float) -> None:
        if on == self.flood:
            return
        self.flood = on
        if self._coolant_out is not None:
            self._coolant_out(t_us, on)

    def _commit_modal(self, block: gcode.Block, inches: bool, motion: int, feed: float) -> None:
        m = self.modal
        m.inches, m.motion, m.feed_mm_min = inches, motion, feed
        if block.incremental is not None:
            m.incremental = block.incremental
        for code in block.mcodes:
            if code in (8, 9):
                m.coolant = code

    def _plan(self, target: int, rate_mm_min: float, kind: str, now_us: float) -> None:
        delta = target - self.gc_steps
        self.gc_steps = target
        if delta == 0:
            return
        self.stepper.add(
            Block(1 if delta > 0 else -1, abs(delta), self._rate_steps(rate_mm_min), self.accel_steps, kind),  # type: ignore[arg-type]
            now_us,
        )
        if self.state == "Idle":
            self.state = "Jog" if kind == "jog" else "Run"

    def _jog(self, text: str, now_us: float) -> bool:
        block = gcode.parse(text, jog=True)
        if len(self.stepper.queue) >= PLANNER_BLOCKS:
            return False
        inches = block.inches if block.inches is not None else self.modal.inches
        incremental = block.incremental if block.incremental is not None else self.modal.incremental
        saved = dict(self.modal.other_axes)
        target_mm = self._target_mm(block, inches, incremental)
        self.modal.other_axes = saved  # a jog leaves the parser's state alone
        if target_mm is not None:
            target = lround(target_mm * self.spm)
            if not self._soft_limit_ok(target):
                raise GcodeError(15)
            self._plan(target, block.words["F"] * (25.4 if inches else 1.0), "jog", now_us)
            self.gc_mm = target_mm
        self._send("ok")
        return True

    # ----- homing -----
    def _home(self, now_us: float) -> bool:
        if not self.settings[22]:
            raise GcodeError(5)
        toward = -1 if int(self.settings[23]) >> self.axis_i & 1 else 1
        self.state = "Home"
        self.homing = _Homing("search", toward, wait_until_us=now_us)
        self.pending = ("\x00homing", now_us)
        return False

    def _homing_step(self, now_us: float) -> bool:
        h = self.homing
        assert h is not None
        if self.stepper.queue:
            return False
        if now_us < h.wait_until_us:
            return False
        spm = self.spm
        pulloff = lround(self.settings[27] * spm)
        seek = self._rate_steps(self.settings[25])
        feed = self._rate_steps(self.settings[24])
        accel = self.accel_steps
        if not h.block_started:
            h.block_started = True
            h.tripped = False
            if h.phase == "search":
                steps = lround(SEARCH_SCALAR * self.settings[130 + self.axis_i] * spm)
                self.stepper.add(Block(h.toward, steps, seek, accel, "home"), h.wait_until_us)
            elif h.phase == "locate":
                steps = lround(LOCATE_SCALAR * self.settings[27] * spm)
                self.stepper.add(Block(h.toward, steps, feed, accel, "home"), h.wait_until_us)
            else:
                self.stepper.add(Block(-h.toward, pulloff, feed, accel, "home"), h.wait_until_us)
            return True
        # The phase's block has ended (tripped or run out).
        h.block_started = False
        if h.phase in ("search", "locate"):
            if not h.tripped:
                return self._homing_failed(9, now_us)
            h.phase = "pulloff1" if h.phase == "search" else "pulloff2"
            return True
        if self._switch_in():
            return self._homing_failed(8, now_us)
        if h.phase == "pulloff1":
            h.phase = "locate"
            h.wait_until_us = max(h.wait_until_us, now_us)
            return True
        travel = self.settings[130 + self.axis_i]
        home_mm = -travel + self.settings[27] if h.toward < 0 else -self.settings[27]
        self.stepper.position = lround(home_mm * spm)
        self._limit_was = self._switch_in()
        self._sync_gc()
        self.homing = None
        self.state = "Idle"
        self.pending = None
        self.lines_executed += 1
        self._send("ok")
        return True

    def _homing_failed(self, code: int, now_us: float) -> bool:
        self.homing = None
        self._send(f"ALARM:{code}")
        self.state = "Alarm"
        self.pending = None
        self.stepper.abort(now_us)
        self.rx.clear()
        self._sync_gc()
        self._send(f"\r\n{BANNER}")
        self._send(UNLOCK_MSG)
        return True

    def _send(self, text: str) -> None:
        self.output(text.encode("ascii") + b"\r\n")
