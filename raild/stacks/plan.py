"""A stack plan: the exact microstep positions from start to end, and their frames.

Pure: no I/O. Positions run from `start_um` to `end_um` in the order given (either
direction), are whole microsteps from the rail's own conversion, and are strictly
monotonic, so frame order is focus order.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from raild.stacks.errors import InvalidPlan
from raild.stacks.geometry import RailGeometry
from raild.stacks.request import MAX_FRAMES, StackRequest

# Tolerance for a step typed as exactly one microstep, or a distance that is an exact
# multiple of the step, against float rounding.
_EPS = 1e-9


@dataclass(frozen=True)
class Plan:
    start_um: float
    end_um: float
    # The step used: as asked for a step plan (positions are the nearest microsteps to
    # multiples of it), the even spacing for a frames plan, 0 for one position.
    step_um: float
    requested_step_um: float | None
    requested_frames: int | None
    positions_steps: tuple[int, ...]
    positions_um: tuple[float, ...]
    settle_ms: int
    shots_per_position: int
    shot_interval_ms: int
    return_to_start: bool
    warnings: tuple[str, ...] = ()
    last_step_um: float | None = None  # the last step, when it is shorter than step_um
    first_settle_ms: int | None = None  # settle before a run's first frame; None: settle_ms

    @property
    def positions(self) -> int:
        return len(self.positions_steps)

    @property
    def frames(self) -> int:
        """Images in the whole stack: positions × shots per position."""
        return self.positions * self.shots_per_position

    def position_of(self, index: int) -> int:
        """0-based position index of 1-based frame `index`."""
        return (index - 1) // self.shots_per_position

    def shot_of(self, index: int) -> int:
        """1-based shot number of frame `index` at its position."""
        return (index - 1) % self.shots_per_position + 1

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["positions_steps"] = list(self.positions_steps)
        data["positions_um"] = list(self.positions_um)
        data["warnings"] = list(self.warnings)
        data["positions"] = self.positions
        data["frames"] = self.frames
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Plan:
        return cls(
            start_um=float(data["start_um"]),
            end_um=float(data["end_um"]),
            step_um=float(data["step_um"]),
            requested_step_um=data.get("requested_step_um"),
            requested_frames=data.get("requested_frames"),
            positions_steps=tuple(int(s) for s in data["positions_steps"]),
            positions_um=tuple(float(u) for u in data["positions_um"]),
            settle_ms=int(data["settle_ms"]),
            shots_per_position=int(data["shots_per_position"]),
            shot_interval_ms=int(data["shot_interval_ms"]),
            return_to_start=bool(data["return_to_start"]),
            warnings=tuple(data.get("warnings", ())),
            # Absent from manifests written before these existed.
            last_step_um=None if data.get("last_step_um") is None else float(data["last_step_um"]),
            first_settle_ms=None if data.get("first_settle_ms") is None else int(data["first_settle_ms"]),
        )

    @property
    def first_settle(self) -> int:
        return self.settle_ms if self.first_settle_ms is None else self.first_settle_ms


def _limit_errors(req: StackRequest, geo: RailGeometry) -> list[dict[str, str]]:
    errors = []
    for field, value in (("start_um", req.start_um), ("end_um", req.end_um)):
        if not geo.soft_min_um - _EPS <= value <= geo.soft_max_um + _EPS:
            errors.append(
                {
                    "field": field,
                    "message": f"{value:g} µm is outside the soft limits {geo.soft_min_um:g} to {geo.soft_max_um:g} µm",
                }
            )
    return errors


def _offsets_steps(req: StackRequest, distance_steps: int, geo: RailGeometry) -> list[int]:
    """Offsets from the start in whole microsteps, strictly increasing, ending at the end."""
    if distance_steps == 0:
        if req.frames not in (None, 1):
            raise InvalidPlan(
                [
                    {
                        "field": "frames",
                        "message": "start_um and end_um are the same position; use frames = 1",
                    }
                ]
            )
        return [0]
    if req.step_um is not None:
        step_steps = req.step_um / geo.um_per_step
        if step_steps < 1 - _EPS:
            raise InvalidPlan(
                [
                    {
                        "field": "step_um",
                        "message": f"{req.step_um:g} µm is less than one microstep "
                        f"({geo.um_per_step:.4g} µm); the rail cannot move that little",
                    }
                ]
            )
        if req.frames is not None:  # counted from the start: exactly `frames` positions
            return [round(i * step_steps) for i in range(req.frames)]
        if step_steps > distance_steps + 0.5:
            raise InvalidPlan(
                [
                    {
                        "field": "step_um",
                        "message": f"{req.step_um:g} µm is larger than the whole range "
                        f"({distance_steps * geo.um_per_step:g} µm from start_um to end_um); give a smaller "
                        "step, or start_um = end_um for a single position",
                    }
                ]
            )
        intervals = max(1, math.ceil(distance_steps / step_steps - _EPS))
        if intervals + 1 > MAX_FRAMES:
            raise InvalidPlan(
                [
                    {
                        "field": "step_um",
                        "message": f"{req.step_um:g} µm over {distance_steps * geo.um_per_step:g} µm "
                        f"gives {intervals + 1} positions; at most {MAX_FRAMES}",
                    }
                ]
            )
        offsets = [round(i * step_steps) for i in range(intervals)] + [distance_steps]
        # A last interval under half a microstep rounds onto the one before it.
        return [o for i, o in enumerate(offsets) if i == 0 or o > offsets[i - 1]]
    assert req.frames is not None
    if req.frames == 1:
        raise InvalidPlan(
            [
                {
                    "field": "frames",
                    "message": "one frame cannot span different start_um and end_um; give at least 2",
                }
            ]
        )
    if req.frames - 1 > distance_steps:
        raise InvalidPlan(
            [
                {
                    "field": "frames",
                    "message": f"{req.frames} frames over {distance_steps} microsteps would be closer than "
                    f"one microstep; at most {distance_steps + 1}",
                }
            ]
        )
    step_steps = distance_steps / (req.frames - 1)
    return [round(i * step_steps) for i in range(req.frames)]


def build_plan(req: StackRequest, geo: RailGeometry) -> Plan:
    """Exact positions for a checked request, or `InvalidPlan` with per-field messages."""
    errors = _limit_errors(req, geo)
    if errors:
        raise InvalidPlan(errors)
    start_steps = geo.um_to_steps(req.start_um)
    end_steps = geo.um_to_steps(req.end_um)
    sign = 1 if req.end_um >= req.start_um else -1
    offsets = _offsets_steps(req, abs(end_steps - start_steps), geo)
    positions_steps = tuple(start_steps + sign * o for o in offsets)
    if len(offsets) > 1 and len(set(offsets)) != len(offsets):
        raise InvalidPlan([{"field": "step_um", "message": "steps this small land on the same microstep"}])
    if len(positions_steps) * req.shots_per_position > MAX_FRAMES:
        raise InvalidPlan(
            [
                {
                    "field": "shots_per_position",
                    "message": f"{len(positions_steps)} positions × {req.shots_per_position} shots is "
                    f"more than {MAX_FRAMES} frames",
                }
            ]
        )
    positions_um = tuple(geo.steps_to_um(s) for s in positions_steps)
    mean_step_um = abs(positions_um[-1] - positions_um[0]) / (len(positions_um) - 1) if len(positions_um) > 1 else 0.0
    step_used_um = mean_step_um
    last_step_um: float | None = None
    if req.step_um is not None and len(positions_um) > 1:
        step_used_um = req.step_um
        last_um = abs(positions_um[-1] - positions_um[-2])
        # Shorter by more than the rounding of positions to whole microsteps.
        if last_um < req.step_um - geo.um_per_step:
            last_step_um = last_um
    warnings: list[str] = []
    if len(positions_um) > 1 and mean_step_um < geo.reliable_step_um:
        warnings.append(
            f"step {mean_step_um:.3g} µm is below the rail's reliable resolution "
            f"({geo.reliable_step_um:g} µm): single microsteps are uneven, expect irregular spacing"
        )
    return Plan(
        start_um=req.start_um,
        end_um=geo.steps_to_um(positions_steps[-1]) if req.frames and req.step_um else req.end_um,
        step_um=step_used_um,
        requested_step_um=req.step_um,
        requested_frames=req.frames,
        positions_steps=positions_steps,
        positions_um=positions_um,
        settle_ms=req.settle_ms,
        shots_per_position=req.shots_per_position,
        shot_interval_ms=req.shot_interval_ms,
        return_to_start=req.return_to_start,
        warnings=tuple(warnings),
        last_step_um=last_step_um,
        first_settle_ms=req.first_settle_ms,
    )
