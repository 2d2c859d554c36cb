"""Rail logic that needs no pigpiod: units, limits, backlash legs, planning fallbacks."""

from __future__ import annotations

import itertools
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from raild.config import Config
from raild.events import EventBus
from raild.motion.approach import approach_legs
from raild.motion.errors import InvalidMove
from raild.motion.rail import Rail


def _rail(**rail: object) -> Rail:
    cfg = Config().with_overrides(rail=rail) if rail else Config()
    return Rail(cfg, hw=None, events=EventBus())


def test_units_round_trip_and_limits_keep_clear_of_the_switches() -> None:
    rail = _rail()
    assert rail.um_to_steps(1234.5) == 3950  # 3.2 steps per µm, nearest microstep
    assert rail.steps_to_um(3200) == pytest.approx(1000.0)
    assert rail.limits_um() == (10.0, 99_990.0)


@given(
    current=st.integers(-10_000, 10_000),
    target=st.integers(-10_000, 10_000),
    side=st.sampled_from([1, -1]),
    backlash=st.integers(0, 500),
)
def test_backlash_legs_always_end_approaching_from_the_configured_side(
    current: int, target: int, side: int, backlash: int
) -> None:
    legs = approach_legs(current, target, side, backlash, -20_000, 20_000)
    if target == current:
        assert legs == []
        return
    assert legs[-1] == target
    before = legs[-2] if len(legs) == 2 else current
    if backlash:
        assert (target - before) * side > 0  # the last leg moves in the approach direction
    if len(legs) == 2:
        assert abs(legs[0] - target) == backlash


def test_overshoot_is_shortened_at_a_limit_not_pushed_past_it() -> None:
    assert approach_legs(5_000, 100, 1, 320, 32, 20_000) == [32, 100]


def test_slow_acceleration_lowers_the_cruise_speed_never_raises_the_acceleration() -> None:
    rail = _rail(accel_um_s2=4_000.0)  # ramps of 3 600 steps each do not fit pigpio's wave memory
    program = rail.compile(64_000, 3_000.0)
    a_max = 4_000.0 * 3.2
    iv = list(program.profile.intervals())
    assert len(iv) == 64_000
    assert program.profile.peak_speed_steps_s < 3_000.0 * 3.2
    for d0, d1 in itertools.pairwise(iv):
        slack = 1e6 / (d0 - 1) - 1e6 / d0 + 1e6 / (d1 - 1) - 1e6 / d1
        assert abs(1e6 / d1 - 1e6 / d0) <= a_max * (d0 + d1) / 2e6 + slack


def test_impossible_speed_is_an_invalid_move() -> None:
    rail = _rail()
    with pytest.raises(InvalidMove, match="positive"):
        rail._speed(math.nan)
    with pytest.raises(InvalidMove, match="above max_speed_um_s"):
        rail._speed(10_000.0)
    with pytest.raises(InvalidMove, match="finite"):
        rail._target_from_um(math.inf)


@settings(max_examples=25, deadline=None)
@given(
    accel=st.floats(1_000.0, 500_000.0),
    speed=st.floats(300.0, 20_000.0),
    steps=st.sampled_from([1, 37, 5_000, 320_000]),
)
def test_every_configured_acceleration_compiles_within_its_bounds(accel: float, speed: float, steps: int) -> None:
    rail = _rail(accel_um_s2=accel, max_speed_um_s=speed, start_speed_um_s=min(100.0, speed / 2))
    program = rail.compile(steps, speed)
    assert program.steps == steps
    assert program.profile.peak_speed_steps_s <= speed * 3.2 + 1e-6
    assert program.chain_cbs <= 600 and program.wave_cbs <= 25_016 and len(program.waves) <= 250
