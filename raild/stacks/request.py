"""The body of `POST /stacks`, checked field by field before any planning.

Accepts a plain mapping (the API's parsed JSON) so the checks and their messages live
in one place; every problem is reported at once as `{field, message}`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from raild.stacks.errors import InvalidPlan

MAX_FRAMES = 10_000
MAX_SETTLE_MS = 600_000
MAX_SHOTS_PER_POSITION = 100
MAX_SHOT_INTERVAL_MS = 600_000
MAX_NAME_CHARS = 100
FIELDS = (
    "start_um",
    "end_um",
    "step_um",
    "frames",
    "settle_ms",
    "shots_per_position",
    "shot_interval_ms",
    "return_to_start",
    "name",
)


@dataclass(frozen=True)
class StackRequest:
    start_um: float
    end_um: float
    step_um: float | None
    frames: int | None
    settle_ms: int
    shots_per_position: int
    shot_interval_ms: int
    return_to_start: bool
    name: str | None


def _number(data: Mapping[str, Any], key: str, errors: list[dict[str, str]]) -> float | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        errors.append({"field": key, "message": f"must be a number (got {value!r})"})
        return None
    if not math.isfinite(value):
        errors.append({"field": key, "message": f"must be a finite number (got {value!r})"})
        return None
    return float(value)


def _integer(data: Mapping[str, Any], key: str, low: int, high: int, errors: list[dict[str, str]]) -> int | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        errors.append({"field": key, "message": f"must be a whole number (got {value!r})"})
        return None
    if not low <= value <= high:
        errors.append({"field": key, "message": f"must be between {low} and {high} (got {value})"})
        return None
    return value


def parse_request(data: Mapping[str, Any], *, default_settle_ms: int, default_shot_interval_ms: int) -> StackRequest:
    """A typed request, or `InvalidPlan` listing every bad or missing field."""
    errors: list[dict[str, str]] = []
    for key in data:
        if key not in FIELDS:
            errors.append({"field": str(key), "message": "unknown field; allowed: " + ", ".join(FIELDS)})
    start_um = _number(data, "start_um", errors)
    end_um = _number(data, "end_um", errors)
    for key in ("start_um", "end_um"):
        if data.get(key) is None:
            errors.append({"field": key, "message": "is required (µm)"})
    step_um = _number(data, "step_um", errors)
    if step_um is not None and step_um <= 0:
        errors.append({"field": "step_um", "message": f"must be greater than 0 (got {step_um:g})"})
    frames = _integer(data, "frames", 1, MAX_FRAMES, errors)
    if data.get("step_um") is not None and data.get("frames") is not None:
        errors.append({"field": "frames", "message": "give either step_um or frames, not both"})
    elif data.get("step_um") is None and data.get("frames") is None:
        errors.append({"field": "step_um", "message": "give either step_um or frames"})
    settle_ms = _integer(data, "settle_ms", 0, MAX_SETTLE_MS, errors)
    shots = _integer(data, "shots_per_position", 1, MAX_SHOTS_PER_POSITION, errors)
    interval_ms = _integer(data, "shot_interval_ms", 0, MAX_SHOT_INTERVAL_MS, errors)
    return_to_start = data.get("return_to_start", True)
    if not isinstance(return_to_start, bool):
        errors.append({"field": "return_to_start", "message": f"must be true or false (got {return_to_start!r})"})
    name = data.get("name")
    if name is not None and (not isinstance(name, str) or len(name) > MAX_NAME_CHARS or not name.isprintable()):
        errors.append({"field": "name", "message": f"must be printable text of at most {MAX_NAME_CHARS} characters"})
    if errors:
        raise InvalidPlan(errors)
    assert start_um is not None and end_um is not None
    return StackRequest(
        start_um=start_um,
        end_um=end_um,
        step_um=step_um,
        frames=frames,
        settle_ms=default_settle_ms if settle_ms is None else settle_ms,
        shots_per_position=1 if shots is None else shots,
        shot_interval_ms=default_shot_interval_ms if interval_ms is None else interval_ms,
        return_to_start=bool(return_to_start),
        name=name or None,
    )
