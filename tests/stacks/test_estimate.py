"""Time estimates: the trapezoid against a numeric integration, and the plan totals."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from raild.config import Config, RailConfig
from raild.stacks.estimate import (
    approach_move_time_s,
    capture_time_ms,
    move_time_s,
    position_times_s,
    stack_time_s,
)
from raild.stacks.geometry import RailGeometry
from raild.stacks.plan import build_plan
from raild.stacks.request import parse_request

GEO = RailGeometry.from_config(RailConfig())  # 100 → 3000 µm/s at 20 000 µm/s²


def integrated_time_s(distance_um: float, geo: RailGeometry, dt_s: float = 1e-5) -> float:
    """Step a carriage forward: accelerate while it can still stop in time, else brake."""
    v, x, t = geo.start_speed_um_s, 0.0, 0.0
    a = geo.accel_um_s2
    while x < distance_um:
        braking_um = (v * v - geo.start_speed_um_s**2) / (2 * a)
        if distance_um - x <= braking_um:
            v = max(geo.start_speed_um_s, v - a * dt_s)
        else:
            v = min(geo.max_speed_um_s, v + a * dt_s)
        x += v * dt_s
        t += dt_s
    return t


@settings(max_examples=15, deadline=None)
@given(steps=st.integers(1, 16_000))
def test_move_time_matches_an_integrated_trapezoid(steps: int) -> None:
    distance = steps * GEO.um_per_step
    # Within 1 %, or a fraction of the first step's 3 ms at start speed for tiny moves.
    assert move_time_s(distance, GEO) == pytest.approx(integrated_time_s(distance, GEO), rel=0.01, abs=5e-4)


def test_long_move_is_dominated_by_cruise() -> None:
    ramp_s = 2 * (3000 - 100) / 20_000
    ramp_um = (3000**2 - 100**2) / 20_000
    assert move_time_s(60_000, GEO) == pytest.approx(ramp_s + (60_000 - ramp_um) / 3000)


def test_moves_against_the_approach_side_pay_the_backlash_twice() -> None:
    with_approach = approach_move_time_s(-100, GEO)  # approach is positive: overshoot, come back
    assert with_approach == pytest.approx(move_time_s(200, GEO) + move_time_s(100, GEO))
    assert approach_move_time_s(100, GEO) == pytest.approx(move_time_s(100, GEO))
    no_backlash = replace(GEO, backlash_um=0)
    assert approach_move_time_s(-100, no_backlash) == pytest.approx(move_time_s(100, GEO))


def test_stack_time_adds_moves_settle_shots_and_return() -> None:
    req = parse_request(
        {
            "start_um": 1000,
            "end_um": 2000,
            "step_um": 100,
            "settle_ms": 300,
            "shots_per_position": 2,
            "shot_interval_ms": 50,
        },
        default_settle_ms=0,
        default_shot_interval_ms=0,
    )
    p = build_plan(req, GEO)
    per_pos = [0.3 + 2 * 0.15 + 0.05] * 11
    moves = [0.0] + [move_time_s(100, GEO)] * 10
    times = position_times_s(p, GEO, capture_ms=150)
    assert times == pytest.approx([a + b for a, b in zip(per_pos, moves, strict=True)])
    back = approach_move_time_s(-1000, GEO)
    assert stack_time_s(p, GEO, 150) == pytest.approx(sum(times) + back)
    assert stack_time_s(p, GEO, 150, from_um=0) == pytest.approx(sum(times) + back + move_time_s(1000, GEO))


def test_capture_time_follows_the_backend() -> None:
    assert capture_time_ms(Config()) == 150  # simulated capture latency
    wired = Config().with_overrides(
        camera={"backend": "gpio", "focus_ms": 10, "shutter_pulse_ms": 100, "exposure_ms": 200}
    )
    assert capture_time_ms(wired) == 310
    usb = Config().with_overrides(camera={"backend": "gphoto2", "exposure_ms": 100})
    assert capture_time_ms(usb) > 100
