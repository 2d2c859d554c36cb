"""Extension bodies: same step, same direction, adjacent to the parent's end."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from raild.focus.extend import ExtendRefused, extension_body, frames_to_reach


@dataclass
class FakePlan:
    positions_um: tuple[float, ...]
    step_um: float
    requested_step_um: float | None = None
    settle_ms: int = 100
    shots_per_position: int = 1
    shot_interval_ms: int = 0
    return_to_start: bool = True


UP = FakePlan((1000.0, 1100.0, 1200.0, 1300.0), 100.0, 100.0)
DOWN = FakePlan((1300.0, 1200.0, 1100.0, 1000.0), 100.0, 100.0)


@pytest.mark.parametrize(
    ("plan", "end", "expected"),
    [
        (UP, "near", (700.0, 900.0)),
        (UP, "far", (1400.0, 1600.0)),
        (DOWN, "near", (1600.0, 1400.0)),
        (DOWN, "far", (900.0, 700.0)),
    ],
)
def test_extension_continues_the_sequence(plan: FakePlan, end: str, expected: tuple[float, float]) -> None:
    body = extension_body(plan, end, 3, "bee")
    assert (body["start_um"], body["end_um"]) == expected
    assert body["step_um"] == 100.0 and body["settle_ms"] == 100 and body["name"] == f"bee {end} +3"


def test_frames_from_the_coverage_suggestion() -> None:
    assert frames_to_reach(UP, "near", {"start_um": 640.0, "end_um": 1300.0, "step_um": 100.0}) == 4
    assert frames_to_reach(DOWN, "far", {"start_um": 1300.0, "end_um": 800.0, "step_um": 100.0}) == 2
    with pytest.raises(ExtendRefused) as exc:
        frames_to_reach(UP, "far", {"start_um": 640.0, "end_um": 1300.0, "step_um": 100.0})
    assert exc.value.status == 409
    with pytest.raises(ExtendRefused):
        frames_to_reach(UP, "near", None)


def test_a_one_position_stack_cannot_be_extended() -> None:
    with pytest.raises(ExtendRefused) as exc:
        extension_body(FakePlan((1000.0,), 0.0), "far", 2, "x")
    assert exc.value.status == 422
