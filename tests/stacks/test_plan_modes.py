"""Plans say what they do: the step as asked, a shorter last step named, a step larger
than the range refused, and the two other ways to place a stack (count from the start,
distance from here)."""

from __future__ import annotations

from typing import Any

import pytest

from raild.config import RailConfig
from raild.stacks.errors import InvalidPlan
from raild.stacks.geometry import RailGeometry
from raild.stacks.plan import Plan, build_plan
from raild.stacks.request import absolute_body, parse_request

GEO = RailGeometry.from_config(RailConfig())  # 0.3125 µm per microstep


def plan(here_um: float | None = None, **body: Any) -> Plan:
    req = parse_request(body, default_settle_ms=500, default_shot_interval_ms=0, here_um=here_um)
    return build_plan(req, GEO)


def problems(here_um: float | None = None, **body: Any) -> dict[str, str]:
    with pytest.raises(InvalidPlan) as err:
        plan(here_um, **body)
    assert err.value.status == 422
    return {e["field"]: e["message"] for e in err.value.errors}


def test_the_step_asked_is_the_step_echoed_and_the_short_last_step_is_named() -> None:
    p = plan(start_um=1000, end_um=1240, step_um=72)
    assert p.step_um == 72
    # Positions are the nearest whole microsteps (0.3125 µm) to multiples of the step.
    assert p.positions_um == pytest.approx([1000, 1072, 1144, 1216, 1240], abs=GEO.um_per_step / 2)
    assert p.last_step_um == pytest.approx(24, abs=GEO.um_per_step)
    assert p.to_dict()["last_step_um"] == p.last_step_um


def test_a_step_that_divides_the_range_has_no_last_step() -> None:
    p = plan(start_um=0, end_um=1000, step_um=100)
    assert p.step_um == 100 and p.last_step_um is None and p.positions == 11


def test_frames_plan_echoes_the_even_spacing() -> None:
    p = plan(start_um=0, end_um=1000, frames=5)
    assert p.step_um == pytest.approx(250) and p.last_step_um is None


@pytest.mark.parametrize(("start", "end"), [(1000, 1050), (1050, 1000)])
def test_a_step_larger_than_the_range_is_refused_saying_so(start: float, end: float) -> None:
    errors = problems(start_um=start, end_um=end, step_um=72)
    assert set(errors) == {"step_um"}
    assert "larger than the whole range" in errors["step_um"] and "50 µm" in errors["step_um"]


def test_a_step_equal_to_the_range_is_two_frames() -> None:
    assert plan(start_um=1000, end_um=1072, step_um=72).positions == 2


@pytest.mark.parametrize(("direction", "sign"), [("+", 1), ("-", -1), (None, 1)])
def test_frames_and_step_count_from_the_start(direction: str | None, sign: int) -> None:
    body: dict[str, Any] = {"start_um": 5000, "frames": 6, "step_um": 33.3}
    if direction:
        body["direction"] = direction
    p = plan(**body)
    assert p.positions == 6 and p.step_um == 33.3 and p.last_step_um is None
    assert p.positions_um[0] == 5000
    assert p.positions_um[-1] == pytest.approx(5000 + sign * 5 * 33.3, abs=GEO.um_per_step)
    assert p.end_um == p.positions_um[-1]
    # The absolute form (a series' later runs) plans the very same positions.
    again = build_plan(parse_request(absolute_body(_req(body)), default_settle_ms=500, default_shot_interval_ms=0), GEO)
    assert again.positions_steps == p.positions_steps


def _req(body: dict[str, Any]) -> Any:
    return parse_request(body, default_settle_ms=500, default_shot_interval_ms=0)


@pytest.mark.parametrize(("direction", "end"), [("+", 3600.0), ("-", 2400.0)])
def test_distance_from_here_in_both_directions(direction: str, end: float) -> None:
    p = plan(here_um=3000.0, distance_um=600, step_um=100, direction=direction)
    assert p.start_um == 3000 and p.end_um == end
    assert p.positions == 7 and p.positions_um[-1] == end and p.step_um == 100
    frames_plan = plan(here_um=3000.0, distance_um=600, frames=4, direction=direction)
    assert frames_plan.positions_um[-1] == end and frames_plan.positions == 4


def test_distance_from_here_with_a_short_last_step() -> None:
    p = plan(here_um=1000.0, distance_um=250, step_um=100, direction="+")
    assert p.positions_um[-1] == 1250 and p.last_step_um == pytest.approx(50)


@pytest.mark.parametrize(
    ("body", "here", "bad"),
    [
        ({"distance_um": 100, "step_um": 10}, 0.0, {"direction"}),
        ({"distance_um": 100, "step_um": 10, "direction": "up"}, 0.0, {"direction"}),
        ({"distance_um": 100, "direction": "+"}, 0.0, {"step_um"}),
        ({"distance_um": 100, "step_um": 10, "frames": 3, "direction": "+"}, 0.0, {"step_um"}),
        ({"distance_um": -5, "step_um": 10, "direction": "+"}, 0.0, {"distance_um"}),
        ({"distance_um": 100, "step_um": 10, "direction": "+", "start_um": 5}, 0.0, {"start_um"}),
        ({"distance_um": 100, "step_um": 10, "direction": "+"}, None, {"distance_um"}),
        ({"start_um": 0, "end_um": 100, "step_um": 10, "direction": "+"}, None, {"direction"}),
        ({"start_um": 0, "frames": 3}, None, {"end_um"}),
        ({"start_um": 0, "frames": 3, "step_um": 1e9}, None, {"step_um"}),
    ],
)
def test_bad_placements_name_the_field(body: dict[str, Any], here: float | None, bad: set[str]) -> None:
    assert set(problems(here, **body)) == bad


def test_count_from_the_start_beyond_the_soft_limits_is_refused() -> None:
    assert "end_um" in problems(start_um=99_000, frames=20, step_um=100)


def test_first_settle_is_kept_and_defaults_to_the_settle() -> None:
    p = plan(start_um=0, end_um=100, frames=2, settle_ms=200, first_settle_ms=1500)
    assert (p.first_settle_ms, p.first_settle) == (1500, 1500)
    q = plan(start_um=0, end_um=100, frames=2, settle_ms=200)
    assert (q.first_settle_ms, q.first_settle) == (None, 200)
    assert set(problems(start_um=0, end_um=100, frames=2, first_settle_ms=-1)) == {"first_settle_ms"}
    assert set(problems(start_um=0, end_um=100, frames=2, first_settle_ms="1")) == {"first_settle_ms"}


def test_a_plan_written_before_last_step_and_first_settle_still_loads() -> None:
    old = plan(start_um=0, end_um=1000, step_um=300).to_dict()
    del old["last_step_um"], old["first_settle_ms"]
    loaded = Plan.from_dict(old)
    assert loaded.last_step_um is None and loaded.first_settle == loaded.settle_ms


@pytest.mark.parametrize("value", [10**400, -(10**400), 1e308, float("nan"), float("inf")])
@pytest.mark.parametrize("field", ["start_um", "step_um", "distance_um"])
def test_numbers_beyond_any_rail_are_a_422_not_a_crash(field: str, value: Any) -> None:
    body: dict[str, Any] = {"start_um": 0, "end_um": 100, "step_um": 10}
    if field == "distance_um":
        body = {"distance_um": 100, "step_um": 10, "direction": "+"}
    assert field in problems(0.0, **{**body, field: value})
