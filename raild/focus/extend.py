"""Extend a stack at its near or far end: the body of a follow-up stack (pure).

The follow-up keeps the parent's step, settle, shots and interval and runs in the same
direction, starting one step beyond the parent's end (far) or ending one step before
its start (near), so the parent's and the child's frames together are one evenly
spaced sequence in focus order. How many frames: given, or enough to reach the
coverage suggestion.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Protocol

from raild.focus.errors import Refused

MAX_NAME_CHARS = 100


class ExtendRefused(Refused):
    """A follow-up stack that cannot be planned from its parent."""


class PlanLike(Protocol):
    @property
    def positions_um(self) -> Sequence[float]: ...
    @property
    def step_um(self) -> float: ...
    @property
    def requested_step_um(self) -> float | None: ...
    @property
    def settle_ms(self) -> int: ...
    @property
    def shots_per_position(self) -> int: ...
    @property
    def shot_interval_ms(self) -> int: ...
    @property
    def return_to_start(self) -> bool: ...


def frames_to_reach(plan: PlanLike, end: str, suggest: dict[str, float] | None) -> int:
    """Frames needed at `end` to reach the coverage suggestion; ExtendRefused when nothing is missing there."""
    step = _step(plan)
    first, last = plan.positions_um[0], plan.positions_um[-1]
    if suggest is None:
        message = f"coverage suggests nothing at the {end} end; give frames to extend anyway"
        raise ExtendRefused(409, "end_covered", message)
    distance = abs(suggest["start_um"] - first) if end == "near" else abs(suggest["end_um"] - last)
    if distance < step / 2:
        raise ExtendRefused(409, "end_covered", f"the {end} end is covered; give frames to extend anyway")
    return max(1, math.ceil(distance / step - 1e-9))


def extension_body(plan: PlanLike, end: str, frames: int, parent_name: str) -> dict[str, Any]:
    if end not in ("near", "far"):
        raise ExtendRefused(422, "invalid_end", f"end must be 'near' or 'far' (got {end!r})")
    step = _step(plan)
    first, last = plan.positions_um[0], plan.positions_um[-1]
    sign = 1.0 if last >= first else -1.0
    if end == "near":
        start_um, end_um = first - sign * step * frames, first - sign * step
    else:
        start_um, end_um = last + sign * step, last + sign * step * frames
    name = f"{parent_name} {end} +{frames}"[-MAX_NAME_CHARS:]
    return {
        "start_um": round(start_um, 4),
        "end_um": round(end_um, 4),
        "step_um": step,
        "settle_ms": plan.settle_ms,
        "shots_per_position": plan.shots_per_position,
        "shot_interval_ms": plan.shot_interval_ms,
        "return_to_start": plan.return_to_start,
        "name": name,
    }


def _step(plan: PlanLike) -> float:
    step = plan.requested_step_um or plan.step_um
    if not step or step <= 0:
        raise ExtendRefused(422, "no_step", "a one-position stack has no step to continue with")
    return float(step)
