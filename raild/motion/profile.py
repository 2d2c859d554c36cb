"""Trapezoid motion profiles as exact per-step times in whole microseconds.

Pure: no I/O. A move of N microsteps is described by N step intervals (µs):
step k rises at the sum of the intervals before it, the first at time 0, and
the move is over when the last interval has elapsed. The intervals come from
the continuous trapezoid (start speed, constant acceleration, cruise, constant
deceleration, end speed), sampled at each whole step and rounded to the µs, so
every interval is within one µs of the ideal and the step count is exact.

Why a trapezoid and not an S-curve: a microstepped rail has no jerk limit worth
planning for (the load is a camera on a lead screw, the motor's own compliance
smooths the corners), and pigpio's 20 chain loop counters leave no room for the
longer, all-distinct ramps of an S-curve.

The cruise is periodic: its speed is rounded down to `block_steps` steps per
`block_us` whole µs (a rational close to the requested speed), so the cruise
intervals repeat with that period and compile into one looped wave.
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections.abc import Iterator
from dataclasses import dataclass, field

MAX_BLOCK_STEPS = 64  # longest cruise period searched; the speed error is < 1/64 µs per step
MAX_INTERVAL_US = 2**32 - 1  # a pulse delay is a uint32 in pigpio


class ProfileError(ValueError):
    """The requested motion cannot be expressed as step times (speeds, limits)."""


@dataclass(frozen=True)
class Kinematics:
    """Speeds and acceleration in microsteps per second (squared)."""

    max_speed_steps_s: float
    accel_steps_s2: float
    start_speed_steps_s: float
    end_speed_steps_s: float | None = None  # None: the same as the start speed

    @property
    def end_speed(self) -> float:
        return self.start_speed_steps_s if self.end_speed_steps_s is None else self.end_speed_steps_s


def _cruise_block(speed_steps_s: float) -> tuple[int, int]:
    """(steps, µs) of the shortest-period rational not faster than `speed_steps_s`."""
    ideal_us = 1e6 / speed_steps_s
    best: tuple[float, int, int] | None = None
    for steps in range(1, MAX_BLOCK_STEPS + 1):
        block_us = math.ceil(steps * ideal_us - 1e-9)
        period = block_us / steps
        if best is None or period < best[0] - 1e-12:
            best = (period, steps, block_us)
    assert best is not None
    return best[1], best[2]


@dataclass(frozen=True)
class Profile:
    """The step intervals of one move, as head + periodic cruise + tail.

    `head` and `tail` are explicit intervals; the cruise is `cruise_pattern`
    repeated `cruise_repeats` times between them.
    """

    steps: int
    head: tuple[int, ...]
    cruise_pattern: tuple[int, ...]
    cruise_repeats: int
    tail: tuple[int, ...]
    peak_speed_steps_s: float
    ideal_duration_s: float  # the continuous trapezoid at the requested (unrounded) speeds
    _head_ends: tuple[int, ...] = field(repr=False, compare=False, default=())
    _tail_ends: tuple[int, ...] = field(repr=False, compare=False, default=())

    def __post_init__(self) -> None:
        object.__setattr__(self, "_head_ends", tuple(_cumsum(self.head)))
        object.__setattr__(self, "_tail_ends", tuple(_cumsum(self.tail)))

    @property
    def cruise_steps(self) -> int:
        return len(self.cruise_pattern) * self.cruise_repeats

    @property
    def head_us(self) -> int:
        return self._head_ends[-1] if self._head_ends else 0

    @property
    def cruise_us(self) -> int:
        return sum(self.cruise_pattern) * self.cruise_repeats

    @property
    def duration_us(self) -> int:
        return self.head_us + self.cruise_us + (self._tail_ends[-1] if self._tail_ends else 0)

    def intervals(self) -> Iterator[int]:
        yield from self.head
        for _ in range(self.cruise_repeats):
            yield from self.cruise_pattern
        yield from self.tail

    def step_time_us(self, k: int) -> int:
        """Time of step k's rising edge (0 ≤ k ≤ steps; k = steps is the end)."""
        if not 0 <= k <= self.steps:
            raise IndexError(k)
        nh = len(self.head)
        if k <= nh:
            return self._head_ends[k - 1] if k else 0
        k -= nh
        nc = self.cruise_steps
        if k <= nc:
            period = len(self.cruise_pattern)
            whole, part = divmod(k, period)
            return self.head_us + whole * sum(self.cruise_pattern) + sum(self.cruise_pattern[:part])
        k -= nc
        return self.head_us + self.cruise_us + (self._tail_ends[k - 1] if k else 0)

    def steps_at(self, t_us: float) -> int:
        """Steps whose rising edge is at or before `t_us` (time 0 = the first step)."""
        if t_us < 0:
            return 0
        if self.steps == 0:
            return 0
        if t_us < self.head_us or not (self.cruise_steps or self.tail):
            # bisect over [0, ends...]: edges are at 0 and at each cumulative end but the last
            return min(self.steps, 1 + bisect.bisect_right(self._head_ends, t_us))
        n = len(self.head)
        t = t_us - self.head_us
        if t < self.cruise_us:
            block_us = sum(self.cruise_pattern)
            whole, rem = divmod(t, block_us)
            period = len(self.cruise_pattern)
            ends = _cumsum(self.cruise_pattern)
            return n + int(whole) * period + 1 + bisect.bisect_right(ends, rem)
        n += self.cruise_steps
        t -= self.cruise_us
        return min(self.steps, n + 1 + bisect.bisect_right(self._tail_ends, t))

    def interval_at_step(self, k: int) -> int:
        return self.step_time_us(k + 1) - self.step_time_us(k)


def _cumsum(values: tuple[int, ...] | list[int]) -> list[int]:
    out, total = [], 0
    for v in values:
        total += v
        out.append(total)
    return out


@dataclass(frozen=True)
class _Phases:
    v0: float
    v1: float
    vc: float
    a: float
    x_acc: float  # steps spent accelerating
    x_dec: float  # steps spent decelerating
    n: int

    @property
    def t_acc(self) -> float:
        return (self.vc - self.v0) / self.a

    @property
    def t_dec(self) -> float:
        return (self.vc - self.v1) / self.a

    @property
    def t_cruise(self) -> float:
        return (self.n - self.x_acc - self.x_dec) / self.vc

    @property
    def total(self) -> float:
        return self.t_acc + self.t_cruise + self.t_dec

    def time_at(self, x: float) -> float:
        """Seconds at which the continuous position reaches x steps."""
        if x <= self.x_acc:
            return _time_accel(self.v0, self.a, x)
        if x <= self.n - self.x_dec:
            return self.t_acc + (x - self.x_acc) / self.vc
        return self.total - _time_accel(self.v1, self.a, self.n - x)


def _time_accel(v0: float, a: float, x: float) -> float:
    # v0 t + a t²/2 = x, solved without cancellation for small x
    if x <= 0:
        return 0.0
    return 2.0 * x / (v0 + math.sqrt(v0 * v0 + 2.0 * a * x))


def _phases(n: int, k: Kinematics, vc: float) -> _Phases:
    v0 = min(k.start_speed_steps_s, vc)
    v1 = min(k.end_speed, vc)
    a = k.accel_steps_s2
    x_acc = (vc * vc - v0 * v0) / (2 * a)
    x_dec = (vc * vc - v1 * v1) / (2 * a)
    if x_acc + x_dec > n:  # a triangle: the peak is where the two ramps meet
        vp = math.sqrt((2 * a * n + v0 * v0 + v1 * v1) / 2)
        if vp < max(v0, v1):
            raise ProfileError(f"{n} steps are too few to change speed from {v0:g} to {v1:g} steps/s at {a:g} steps/s²")
        x_acc = (vp * vp - v0 * v0) / (2 * a)
        x_dec = n - x_acc
        vc = vp
    return _Phases(v0, v1, vc, a, x_acc, x_dec, n)


def plan_profile(steps: int, kin: Kinematics, min_interval_us: int = 1) -> Profile:
    """Plan `steps` microsteps (≥ 0) as whole-µs intervals; raises ProfileError."""
    if steps < 0:
        raise ProfileError("a profile has a non-negative step count; the direction is separate")
    for name in ("max_speed_steps_s", "accel_steps_s2", "start_speed_steps_s"):
        value = getattr(kin, name)
        if not (math.isfinite(value) and value > 0):
            raise ProfileError(f"{name} must be a positive finite number (got {value!r})")
    if not (math.isfinite(kin.end_speed) and kin.end_speed > 0):
        raise ProfileError(f"end speed must be a positive finite number (got {kin.end_speed!r})")
    fastest_us = 1e6 / kin.max_speed_steps_s
    if fastest_us < min_interval_us:
        raise ProfileError(
            f"{kin.max_speed_steps_s:g} steps/s needs {fastest_us:.2f} µs per step; "
            f"the step pulse needs at least {min_interval_us} µs"
        )
    if steps == 0:
        return Profile(0, (), (), 0, (), 0.0, 0.0)
    ideal = _phases(steps, kin, kin.max_speed_steps_s)
    block_steps, block_us = _cruise_block(kin.max_speed_steps_s)
    vc = block_steps * 1e6 / block_us
    ph = _phases(steps, kin, vc)

    def tick(k: int) -> int:
        return math.floor(ph.time_at(k) * 1e6 + 0.5)

    # Cruise intervals are those whose both ends lie in the cruise phase.
    first_cruise = math.ceil(ph.x_acc - 1e-9)
    last_cruise = math.floor(ph.n - ph.x_dec + 1e-9)  # last step index whose time is in cruise
    cruise_intervals = max(0, last_cruise - first_cruise)
    repeats = cruise_intervals // block_steps if vc == ph.vc else 0
    if repeats:
        pattern = tuple(tick(first_cruise + i + 1) - tick(first_cruise + i) for i in range(block_steps))
        head = tuple(tick(i + 1) - tick(i) for i in range(first_cruise))
        start = first_cruise + repeats * block_steps
        t_start = tick(first_cruise) + repeats * block_us
        tail_ticks = [t_start] + [tick(i) for i in range(start + 1, steps + 1)]
        tail = tuple(b - a for a, b in itertools.pairwise(tail_ticks))
    else:
        pattern = ()
        ticks = [tick(i) for i in range(steps + 1)]
        head = tuple(b - a for a, b in itertools.pairwise(ticks))
        tail = ()
    profile = Profile(steps, head, pattern, repeats, tail, ph.vc, ideal.total)
    _check(profile, min_interval_us)
    return profile


def _check(profile: Profile, min_interval_us: int) -> None:
    for group in (profile.head, profile.cruise_pattern, profile.tail):
        if not group:
            continue
        lo, hi = min(group), max(group)
        if lo < min_interval_us:
            raise ProfileError(f"a step interval of {lo} µs is shorter than the {min_interval_us} µs minimum")
        if hi > MAX_INTERVAL_US:
            raise ProfileError(f"a step interval of {hi} µs is longer than pigpio can delay; raise the speeds")
