"""Cutting motion into short step segments, and the timeline they make. Pure.

A motion is a stream of step intervals (µs). It is cut into segments of about
`SEGMENT_US` each; every segment becomes one padded pigpio wave queued with
ONE_SHOT_SYNC, so segments play back to back and each plays wholly or not at
all. Why 25 ms:
- a stop can change only what is not yet sent; with one segment playing and
  one queued, a stop starts decelerating within two segments (≤ 50 ms, about
  one on average);
- the host must send each segment while the previous one plays: 25 ms of
  slack absorbs a loaded Pi's scheduling and GC pauses (a few ms) many times
  over, and costs about 80 small round trips a second;
- at full speed a segment holds a few hundred steps, far below what a padded
  wave can hold (`MAX_SEGMENT_STEPS`), so very fast moves just use shorter
  segments.
The drive lengthens segments (up to 50 ms) after an underrun, when the host
has shown it can be that late, and shortens them back once it keeps up.

`Timeline` is one continuous stream from rest to rest ("a run"): its time 0 is
the DIR edge the run's first pulse makes (dated by pigpio's notification), and
it answers how many steps had risen by any time, so a halt or a switch trip can
be turned into an exact count.
"""

from __future__ import annotations

import bisect
import math
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field

from raild.hw.pigpio_facts import Pulse

SEGMENT_US = 25_000
# A 30 % padded wave holds 7150 CBs and 4787 level slots; a step costs 4 CBs and 2 slots,
# plus the DIR lead and the start CB: 1500 steps fit with room to spare.
PAD_PERCENT = 30
MAX_SEGMENT_STEPS = 1500
HISTORY_SEGMENTS = 16  # segments kept for dating (≥ 0.4 s of motion at 25 ms each)


@dataclass(frozen=True)
class Segment:
    intervals: tuple[int, ...]
    lead_us: int = 0  # the DIR set-up before the first step (a run's first segment)

    @property
    def steps(self) -> int:
        return len(self.intervals)

    @property
    def duration_us(self) -> int:
        return self.lead_us + sum(self.intervals)

    @property
    def last_interval_us(self) -> int | None:
        return self.intervals[-1] if self.intervals else None


def cut(intervals: Iterator[int], segment_us: int = SEGMENT_US, max_steps: int = MAX_SEGMENT_STEPS) -> list[int]:
    """The next segment's intervals from the stream (empty when it is exhausted)."""
    out: list[int] = []
    total = 0
    for d in intervals:
        out.append(d)
        total += d
        if total >= segment_us or len(out) >= max_steps:
            break
    return out


def pulses(seg: Segment, step_gpio: int, dir_gpio: int, dir_high: bool, step_pulse_us: int) -> list[Pulse]:
    step, dirm = 1 << step_gpio, 1 << dir_gpio
    out: list[Pulse] = []
    if seg.lead_us:
        out.append(Pulse(dirm if dir_high else 0, step | (0 if dir_high else dirm), seg.lead_us))
    for d in seg.intervals:
        out.append(Pulse(step, 0, step_pulse_us))
        out.append(Pulse(0, step, d - step_pulse_us))
    return out


def decel_intervals(from_interval_us: int, end_speed_steps_s: float, accel_steps_s2: float) -> list[int]:
    """Intervals that bring a motor stepping every `from_interval_us` to `end_speed` at `accel`.

    Step k of n (counted from the last) is taken at the speed sqrt(v_end² + 2·a·k), so the
    intervals lengthen to the end speed; the first one continues the current speed.
    """
    v = 1e6 / from_interval_us
    v_end = min(end_speed_steps_s, v)
    n = math.ceil((v * v - v_end * v_end) / (2 * accel_steps_s2) - 1e-9)
    out = []
    for k in range(n, 0, -1):
        speed = math.sqrt(v_end * v_end + 2 * accel_steps_s2 * (k - 1))
        out.append(max(from_interval_us, round(1e6 / max(speed, v_end))))
    return out


@dataclass
class _Dated:
    start_us: int  # run time of the segment's first pulse
    first_step_us: int  # run time of its first rising STEP edge
    offsets: list[int]  # rising edges after first_step_us (0, d0, d0+d1, ...)
    base_steps: int  # steps of the run before this segment
    duration_us: int


@dataclass
class Timeline:
    """The steps a run has handed to pigpio, in run time (0 = the run's DIR edge)."""

    sent_us: int = 0
    sent_steps: int = 0
    history: deque[_Dated] = field(default_factory=lambda: deque(maxlen=HISTORY_SEGMENTS))

    def add(self, seg: Segment) -> None:
        offsets, t = [], 0
        for d in seg.intervals:
            offsets.append(t)
            t += d
        self.history.append(_Dated(self.sent_us, self.sent_us + seg.lead_us, offsets, self.sent_steps, seg.duration_us))
        self.sent_us += seg.duration_us
        self.sent_steps += seg.steps

    def steps_at(self, t_us: float) -> int | None:
        """Rising edges at or before run time t_us (None: older than the history kept)."""
        if t_us >= self.sent_us:
            return self.sent_steps
        if not self.history or t_us < self.history[0].start_us:
            return None if self.history and self.history[0].base_steps else 0
        starts = [h.start_us for h in self.history]
        seg = self.history[bisect.bisect_right(starts, t_us) - 1]
        return seg.base_steps + bisect.bisect_right(seg.offsets, t_us - seg.first_step_us)

    def steps_around(self, t_us: float, tolerance_us: int) -> tuple[int, bool]:
        """(steps before t_us, exact): inexact if an edge lies within tolerance of t_us."""
        lo = self.steps_at(t_us - tolerance_us - 1)
        hi = self.steps_at(t_us + tolerance_us)
        if lo is None or hi is None:
            return (hi if hi is not None else 0), False
        return lo, lo == hi
