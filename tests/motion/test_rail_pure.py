"""Rail logic that needs no pigpiod: units, limits, backlash legs."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from raild.config import Config
from raild.drives.factory import make_grbl_drive
from raild.events import EventBus
from raild.motion.approach import approach_legs
from raild.motion.errors import InvalidMove
from raild.motion.rail import Rail


def _rail(**rail: object) -> Rail:
    cfg = Config().with_overrides(rail=rail) if rail else Config()
    # The pure parts need no link: a grbl drive that is never started.
    return Rail(cfg, hw=None, events=EventBus(), drive=make_grbl_drive(cfg))


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


def test_impossible_speed_is_an_invalid_move() -> None:
    rail = _rail()
    with pytest.raises(InvalidMove, match="positive"):
        rail._speed(math.nan)
    with pytest.raises(InvalidMove, match="above max_speed_um_s"):
        rail._speed(10_000.0)
    with pytest.raises(InvalidMove, match="finite"):
        rail._target_from_um(math.inf)
