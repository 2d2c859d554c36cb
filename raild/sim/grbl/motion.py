"""Planner and stepper of the grbl emulator, for the one axis the rail is on.

Blocks are planned like grbl's look-ahead planner does for collinear moves: the
junction speed between two blocks in the same direction is the lower of their
nominal speeds, a reversal is a stop, and the last queued block ends at rest;
exit speeds come from a backward pass (v² = v_next² + 2·a·d). The executing
block's trapezoid is re-planned from its current speed whenever the queue
changes, so a block queued in time keeps the carriage moving.

Step instants are exact solutions of the trapezoid (s = s0 + v·t + a·t²/2), not
grbl's 10 ms segments of constant rate: the emulated motor sees a smooth ramp,
which is kinder than the real firmware, and is said in the package docstring.
A feed hold replaces the plan by a deceleration at the block's acceleration from
the speed at that instant, carried across block boundaries until at rest.
Units: steps, steps/s, steps/s², emulated µs (floats within a block).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

Kind = Literal["line", "jog", "home"]
StepSink = Callable[[float, int], bool]  # (emu_us, direction) -> False to stop at once


@dataclass
class Block:
    direction: int  # +1 or -1
    steps: int  # > 0
    nominal_v: float  # steps/s
    accel: float  # steps/s²
    kind: Kind = "line"
    done: int = 0


@dataclass
class _Seg:
    t0_us: float
    s0: float
    v0: float
    a: float
    dur_s: float

    def at(self, t_us: float) -> tuple[float, float]:
        dt = max(0.0, min(self.dur_s, (t_us - self.t0_us) / 1e6))
        return self.s0 + self.v0 * dt + 0.5 * self.a * dt * dt, self.v0 + self.a * dt

    @property
    def end_us(self) -> float:
        return self.t0_us + self.dur_s * 1e6


@dataclass
class Stepper:
    position: int = 0  # grbl's machine position of the axis, in steps
    queue: deque[Block] = field(default_factory=deque)
    holding: bool = False
    _segs: list[_Seg] = field(default_factory=list)  # remaining phases of queue[0]
    _v_end: float = 0.0  # speed when queue[0] ended (entry of the next)
    _t_free_us: float = 0.0  # when the last motion came to rest
    _last_dir: int = 1  # direction of the block that ran last

    # ----- queries -----
    @property
    def moving(self) -> bool:
        return bool(self.queue) and not self.hold_complete

    @property
    def hold_complete(self) -> bool:
        return self.holding and not self._segs

    @property
    def rest_since_us(self) -> float:
        """When the last motion came to rest (meaningful while nothing is queued)."""
        return self._t_free_us

    def speed(self, t_us: float) -> float:
        if not self._segs:
            return 0.0
        seg = self._segs[0]
        return max(0.0, seg.at(t_us)[1])

    # ----- commands -----
    def add(self, block: Block, t_us: float) -> None:
        if block.steps <= 0:
            return
        self.queue.append(block)
        if self.holding:
            return
        if len(self.queue) == 1:
            self._v_end = 0.0
            self._start_block(max(t_us, self._t_free_us), 0.0)
        else:
            self._replan(t_us)

    def hold(self, t_us: float) -> None:
        if self.holding or not self.queue:
            self.holding = True
            return
        self.holding = True
        s, v = self._state(t_us)
        self._decel_from(t_us, s, v)

    def resume(self, t_us: float) -> None:
        if not self.holding:
            return
        self.holding = False
        if self.queue:
            s, _ = self._state(t_us)
            self._plan(t_us, s, 0.0)

    def flush(self) -> None:
        """Drop every queued block (the executing one too); the carriage must be at rest."""
        self.queue.clear()
        self._segs = []
        self.holding = False

    def abort(self, t_us: float) -> None:
        """Stop at once (reset, hard limit, a homing switch): no deceleration."""
        self.flush()
        self._t_free_us = t_us

    # ----- execution -----
    def run_until(self, now_us: float, sink: StepSink) -> None:
        while self.queue and self._segs:
            block = self.queue[0]
            seg = self._segs[0]
            k = block.done + 1
            tau = _solve(seg, float(k))
            if tau is None:
                if seg.end_us > now_us:
                    return
                self._segs.pop(0)
                if self._segs:
                    continue
                end_us = seg.end_us
                if self.holding and seg.v0 + seg.a * seg.dur_s <= 1e-9:
                    self._t_free_us = end_us
                    return  # hold complete, block kept
                # Rounding left the last step a hair beyond the ramp's end.
                while block.done < block.steps:
                    if not self._emit(end_us, block, sink):
                        return
                self._next_block(end_us, max(0.0, seg.v0 + seg.a * seg.dur_s))
                continue
            t_step = seg.t0_us + tau * 1e6
            if t_step > now_us:
                return
            if not self._emit(t_step, block, sink):
                return
            if block.done >= block.steps:
                _, v = seg.at(t_step)
                self._next_block(t_step, max(0.0, v))

    def _emit(self, t_us: float, block: Block, sink: StepSink) -> bool:
        block.done += 1
        self.position += block.direction
        if not sink(t_us, block.direction):
            self.abort(t_us)
            return False
        return True

    def _next_block(self, t_us: float, v: float) -> None:
        self.queue.popleft()
        self._segs = []
        if not self.queue:
            self._t_free_us = t_us
            return
        nxt = self.queue[0]
        prev_dir = nxt.direction if v <= 0 else self._last_dir
        if nxt.direction != prev_dir:
            v = 0.0
        self._start_block(t_us, v)

    def _start_block(self, t_us: float, v: float) -> None:
        self._last_dir = self.queue[0].direction
        if self.holding:
            self._decel_from(t_us, 0.0, v)
        else:
            self._plan(t_us, 0.0, v)

    def _state(self, t_us: float) -> tuple[float, float]:
        if not self._segs:
            return float(self.queue[0].done) if self.queue else 0.0, 0.0
        return self._segs[0].at(t_us)

    def _replan(self, t_us: float) -> None:
        if not self.queue or self.holding:
            return
        s, v = self._state(t_us)
        self._plan(t_us, s, v)

    def _exit_speed(self) -> float:
        """Exit speed of queue[0] from the backward pass over the queue."""
        q = list(self.queue)
        ve = 0.0
        for i in range(len(q) - 2, -1, -1):
            a, b = q[i], q[i + 1]
            junction = min(a.nominal_v, b.nominal_v) if a.direction == b.direction else 0.0
            ve = min(junction, math.sqrt(ve * ve + 2.0 * b.accel * b.steps))
        return ve

    def _plan(self, t_us: float, s: float, v0: float) -> None:
        block = self.queue[0]
        dist = max(0.0, block.steps - s)
        self._segs = _trapezoid(t_us, s, v0, block.nominal_v, self._exit_speed(), block.accel, dist)

    def _decel_from(self, t_us: float, s: float, v: float) -> None:
        accel = self.queue[0].accel
        self._segs = [_Seg(t_us, s, v, -accel, v / accel)] if v > 0 else []
        if not self._segs:
            self._t_free_us = t_us


def _solve(seg: _Seg, k: float) -> float | None:
    """Seconds after seg.t0 at which the position reaches k, if within the segment."""
    d = k - seg.s0
    if d <= 0:
        return 0.0
    if seg.a == 0.0:
        if seg.v0 <= 0:
            return None
        tau = d / seg.v0
    else:
        disc = seg.v0 * seg.v0 + 2.0 * seg.a * d
        if disc < 0:
            return None
        root = math.sqrt(disc)
        if seg.v0 + root <= 0:
            return None
        tau = 2.0 * d / (seg.v0 + root)
    return tau if tau <= seg.dur_s * (1 + 1e-12) else None


def _trapezoid(t_us: float, s: float, v0: float, vn: float, ve: float, a: float, dist: float) -> list[_Seg]:
    """Phases that cover `dist` from speed v0, cruising at most vn, ending at ve."""
    segs: list[_Seg] = []
    if dist <= 0:
        return segs
    reach = math.sqrt(v0 * v0 + 2 * a * dist)
    ve = min(ve, vn, reach)
    if v0 > vn:
        d1 = (v0 * v0 - vn * vn) / (2 * a)
        d3 = (vn * vn - ve * ve) / (2 * a)
        if d1 + d3 > dist:  # cannot slow down in time: brake all the way
            v_end = math.sqrt(max(0.0, v0 * v0 - 2 * a * dist))
            return [_Seg(t_us, s, v0, -a, (v0 - v_end) / a)]
        vp = vn
        d_acc, acc = d1, -a
    else:
        vp = min(vn, math.sqrt(max(v0 * v0, ve * ve, (2 * a * dist + v0 * v0 + ve * ve) / 2)))
        d_acc, acc = (vp * vp - v0 * v0) / (2 * a), a
    d_dec = (vp * vp - ve * ve) / (2 * a)
    d_cruise = max(0.0, dist - d_acc - d_dec)
    t, pos = t_us, s
    if d_acc > 0 and vp != v0:
        dur = abs(vp - v0) / a
        segs.append(_Seg(t, pos, v0, acc, dur))
        t += dur * 1e6
        pos += d_acc
    if d_cruise > 0 and vp > 0:
        dur = d_cruise / vp
        segs.append(_Seg(t, pos, vp, 0.0, dur))
        t += dur * 1e6
        pos += d_cruise
    if d_dec > 0 and vp > ve:
        segs.append(_Seg(t, pos, vp, -a, (vp - ve) / a))
    return segs
