"""Plans: exact microstep positions, either direction, and per-field validation."""

from __future__ import annotations

import itertools
import math
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from raild.config import Config, RailConfig
from raild.stacks.errors import InvalidPlan
from raild.stacks.geometry import RailGeometry
from raild.stacks.plan import Plan, build_plan
from raild.stacks.request import parse_request

# Defaults: 1 mm lead, 200 × 16 → 3200 steps/mm, 0.3125 µm per microstep, 0-100 mm.
GEO = RailGeometry.from_config(RailConfig())
UM_PER_STEP = 0.3125


def plan(**body: Any) -> Plan:
    req = parse_request(body, default_settle_ms=500, default_shot_interval_ms=0)
    return build_plan(req, GEO)


def fields_of(err: pytest.ExceptionInfo[InvalidPlan]) -> set[str]:
    return {e["field"] for e in err.value.errors}


def test_step_plan_covers_start_to_end_in_whole_microsteps() -> None:
    p = plan(start_um=1000, end_um=2000, step_um=100)
    assert p.positions == 11
    assert p.positions_um[0] == 1000 and p.positions_um[-1] == 2000
    assert p.positions_steps == tuple(3200 + 320 * i for i in range(11))
    assert p.step_um == pytest.approx(100)
    assert p.frames == 11 and p.warnings == ()


def test_step_that_does_not_divide_the_distance_still_reaches_the_end() -> None:
    p = plan(start_um=0, end_um=1000, step_um=300)
    assert [round(u, 4) for u in p.positions_um] == [0, 300, 600, 900, 1000]


def test_frames_are_distributed_and_direction_is_kept() -> None:
    p = plan(start_um=5000, end_um=4000, frames=5)
    assert p.positions_um == (5000, 4750, 4500, 4250, 4000)
    assert p.positions_steps == (16000, 15200, 14400, 13600, 12800)


def test_shots_per_position_multiply_frames() -> None:
    p = plan(start_um=0, end_um=100, frames=3, shots_per_position=2)
    assert p.frames == 6
    assert [p.position_of(i) for i in range(1, 7)] == [0, 0, 1, 1, 2, 2]
    assert [p.shot_of(i) for i in range(1, 7)] == [1, 2, 1, 2, 1, 2]


def test_single_position_when_start_equals_end() -> None:
    assert plan(start_um=50, end_um=50, frames=1).positions == 1
    assert plan(start_um=50, end_um=50, step_um=10).positions == 1
    with pytest.raises(InvalidPlan) as err:
        plan(start_um=50, end_um=50, frames=3)
    assert fields_of(err) == {"frames"}


def test_plan_round_trips_through_its_dict() -> None:
    p = plan(start_um=10, end_um=990, step_um=33.3, shots_per_position=2, name="beetle")
    assert Plan.from_dict(p.to_dict()) == p


@given(
    start=st.floats(0, 100_000),
    end=st.floats(0, 100_000),
    step=st.floats(UM_PER_STEP, 20_000),
)
def test_step_plans_are_strictly_monotonic_and_bounded(start: float, end: float, step: float) -> None:
    distance_steps = abs(round(end / UM_PER_STEP) - round(start / UM_PER_STEP))
    assume(distance_steps / (step / UM_PER_STEP) < 9_999)
    assume(distance_steps == 0 or step / UM_PER_STEP <= distance_steps + 0.5)  # larger: a 422
    p = plan(start_um=start, end_um=end, step_um=step)
    steps = p.positions_steps
    assert steps[0] == round(start / UM_PER_STEP) and steps[-1] == round(end / UM_PER_STEP)
    diffs = [b - a for a, b in itertools.pairwise(steps)]
    sign = 1 if end >= start else -1
    assert all(d * sign >= 1 for d in diffs)  # one microstep at least, one direction
    # No interval is larger than the requested step (rounded to a microstep).
    assert all(abs(d) <= step / UM_PER_STEP + 1 for d in diffs)
    assert all(u == pytest.approx(s * UM_PER_STEP) for u, s in zip(p.positions_um, steps, strict=True))


@given(start=st.floats(0, 100_000), end=st.floats(0, 100_000), frames=st.integers(2, 500))
def test_frame_plans_have_exactly_the_frames_asked(start: float, end: float, frames: int) -> None:
    distance_steps = abs(round(end / UM_PER_STEP) - round(start / UM_PER_STEP))
    assume(frames - 1 <= distance_steps)
    p = plan(start_um=start, end_um=end, frames=frames)
    assert p.positions == frames
    diffs = [b - a for a, b in itertools.pairwise(p.positions_steps)]
    # Auto-distributed: intervals differ by at most one microstep.
    assert max(map(abs, diffs)) - min(map(abs, diffs)) <= 1
    assert len(set(p.positions_steps)) == frames


def test_step_below_one_microstep_is_refused() -> None:
    with pytest.raises(InvalidPlan) as err:
        plan(start_um=0, end_um=100, step_um=0.2)
    assert fields_of(err) == {"step_um"}
    assert "one microstep" in str(err.value)


def test_exactly_one_microstep_is_allowed_but_warned() -> None:
    p = plan(start_um=0, end_um=10, step_um=UM_PER_STEP)
    assert p.positions == 33
    assert len(p.warnings) == 1 and "reliable resolution" in p.warnings[0]


def test_too_many_frames_for_the_distance_is_refused() -> None:
    with pytest.raises(InvalidPlan) as err:
        plan(start_um=0, end_um=1, frames=10)
    assert fields_of(err) == {"frames"}
    assert "at most 4" in str(err.value)


def test_more_than_ten_thousand_frames_is_refused() -> None:
    with pytest.raises(InvalidPlan) as err:
        plan(start_um=0, end_um=100_000, step_um=1)
    assert fields_of(err) == {"step_um"}
    with pytest.raises(InvalidPlan) as err:
        plan(start_um=0, end_um=100_000, frames=10_001)
    assert fields_of(err) == {"frames"}
    with pytest.raises(InvalidPlan) as err:
        plan(start_um=0, end_um=10_000, frames=5_001, shots_per_position=2)
    assert fields_of(err) == {"shots_per_position"}


def test_outside_soft_limits_names_both_ends() -> None:
    with pytest.raises(InvalidPlan) as err:
        plan(start_um=-5, end_um=100_001, step_um=100)
    assert fields_of(err) == {"start_um", "end_um"}
    assert "0 to 100000" in str(err.value)


def test_soft_limits_from_config_are_honoured() -> None:
    geo = RailGeometry.from_config(RailConfig(soft_min_um=1000, soft_max_um=2000))
    req = parse_request({"start_um": 900, "end_um": 1500, "frames": 3}, default_settle_ms=0, default_shot_interval_ms=0)
    with pytest.raises(InvalidPlan) as err:
        build_plan(req, geo)
    assert fields_of(err) == {"start_um"}


@pytest.mark.parametrize(
    ("body", "bad"),
    [
        ({"end_um": 10, "step_um": 1}, {"start_um"}),
        ({"start_um": 0, "end_um": 10}, {"step_um"}),
        ({"start_um": 0, "end_um": 10, "step_um": 1, "frames": 3}, {"frames"}),
        ({"start_um": math.nan, "end_um": 10, "step_um": 1}, {"start_um"}),
        ({"start_um": 0, "end_um": math.inf, "step_um": 1}, {"end_um"}),
        ({"start_um": 0, "end_um": 10, "step_um": 0}, {"step_um"}),
        ({"start_um": 0, "end_um": 10, "step_um": -3}, {"step_um"}),
        ({"start_um": "0", "end_um": 10, "step_um": 1}, {"start_um"}),
        ({"start_um": 0, "end_um": 10, "frames": 2.5}, {"frames"}),
        ({"start_um": 0, "end_um": 10, "frames": 0}, {"frames"}),
        ({"start_um": 0, "end_um": 10, "frames": True}, {"frames"}),
        ({"start_um": 0, "end_um": 10, "frames": 2, "settle_ms": -1}, {"settle_ms"}),
        ({"start_um": 0, "end_um": 10, "frames": 2, "settle_ms": 10**7}, {"settle_ms"}),
        ({"start_um": 0, "end_um": 10, "frames": 2, "shots_per_position": 0}, {"shots_per_position"}),
        ({"start_um": 0, "end_um": 10, "frames": 2, "shots_per_position": 101}, {"shots_per_position"}),
        ({"start_um": 0, "end_um": 10, "frames": 2, "shot_interval_ms": -5}, {"shot_interval_ms"}),
        ({"start_um": 0, "end_um": 10, "frames": 2, "return_to_start": "yes"}, {"return_to_start"}),
        ({"start_um": 0, "end_um": 10, "frames": 2, "name": "x" * 101}, {"name"}),
        ({"start_um": 0, "end_um": 10, "frames": 2, "name": "a\nb"}, {"name"}),
        ({"start_um": 0, "end_um": 10, "frames": 2, "stepsize": 3}, {"stepsize"}),
    ],
)
def test_bad_requests_name_each_field(body: dict[str, Any], bad: set[str]) -> None:
    with pytest.raises(InvalidPlan) as err:
        parse_request(body, default_settle_ms=500, default_shot_interval_ms=0)
    assert fields_of(err) == bad
    assert err.value.status == 422


def test_all_problems_are_reported_at_once() -> None:
    with pytest.raises(InvalidPlan) as err:
        parse_request(
            {"start_um": math.nan, "end_um": "x", "step_um": -1, "settle_ms": -1},
            default_settle_ms=0,
            default_shot_interval_ms=0,
        )
    assert fields_of(err) == {"start_um", "end_um", "step_um", "settle_ms"}


def test_defaults_come_from_the_caller() -> None:
    cfg = Config()
    req = parse_request(
        {"start_um": 0, "end_um": 10, "frames": 2}, default_settle_ms=cfg.camera.settle_ms, default_shot_interval_ms=250
    )
    assert (req.settle_ms, req.shot_interval_ms, req.shots_per_position) == (500, 250, 1)
    assert req.return_to_start is True and req.name is None
