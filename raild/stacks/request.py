"""The body of `POST /stacks`, checked field by field before any planning.

Accepts a plain mapping (the API's parsed JSON) so the checks and their messages live
in one place (the route only translates); every problem is reported at once as
`{field, message}`. Presets are checked by the same field rules (`check_fields`).

Three ways to say where a stack goes (docs/api.md):
- `start_um` + `end_um` + one of `step_um` or `frames`;
- `start_um` + `frames` + `step_um` (+ `direction`, default "+"): count from the start;
- `distance_um` + one of `step_um` or `frames` + `direction`: from the rail's position now.
Each is resolved here to an absolute `start_um`/`end_um`, so a plan (and a series'
later runs) never depends on where the rail happened to be.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from raild.motion.units import MAX_ABS_UM
from raild.stacks.errors import InvalidPlan

MAX_FRAMES = 10_000
MAX_SETTLE_MS = 600_000
MAX_SHOTS_PER_POSITION = 100
MAX_SHOT_INTERVAL_MS = 600_000
MAX_NAME_CHARS = 100
MAX_REPEAT = 999
MIN_REPEAT = 2
MAX_REPEAT_INTERVAL_S = 7 * 24 * 3600.0
DIRECTIONS = ("+", "-")
# Where the stack goes: a preset may not carry these (it is a setup, not a subject).
PLACE_FIELDS = ("start_um", "end_um")
FIELDS = (
    "start_um",
    "end_um",
    "step_um",
    "frames",
    "distance_um",
    "direction",
    "settle_ms",
    "first_settle_ms",
    "shots_per_position",
    "shot_interval_ms",
    "return_to_start",
    "name",
    "repeat",
)
REQUEST_FIELDS = (*FIELDS, "preset")

Errors = list[dict[str, str]]


@dataclass(frozen=True)
class Repeat:
    count: int
    interval_s: float

    def to_dict(self) -> dict[str, Any]:
        return {"count": self.count, "interval_s": self.interval_s}


@dataclass(frozen=True)
class StackRequest:
    start_um: float
    end_um: float  # when both step_um and frames are given: where frames − 1 steps end
    step_um: float | None
    frames: int | None
    settle_ms: int
    shots_per_position: int
    shot_interval_ms: int
    return_to_start: bool
    name: str | None
    first_settle_ms: int | None = None  # None: the first frame settles like the others
    repeat: Repeat | None = None


def _number(data: Mapping[str, Any], key: str, errors: Errors) -> float | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        errors.append({"field": key, "message": f"must be a number (got {value!r})"})
        return None
    # Whole numbers beyond a float's range are refused before any float conversion.
    if isinstance(value, float) and not math.isfinite(value):
        errors.append({"field": key, "message": f"must be a finite number (got {value!r})"})
        return None
    if abs(value) > MAX_ABS_UM:
        errors.append({"field": key, "message": f"must be within ±{MAX_ABS_UM:g}"})
        return None
    return float(value)


def _positive(data: Mapping[str, Any], key: str, errors: Errors) -> float | None:
    value = _number(data, key, errors)
    if value is not None and value <= 0:
        errors.append({"field": key, "message": f"must be greater than 0 (got {value:g})"})
        return None
    return value


def _integer(data: Mapping[str, Any], key: str, low: int, high: int, errors: Errors) -> int | None:
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


def _direction(data: Mapping[str, Any], errors: Errors) -> str | None:
    value = data.get("direction")
    if value is None:
        return None
    if value not in DIRECTIONS:
        errors.append({"field": "direction", "message": f'must be "+" or "-" (got {value!r})'})
        return None
    return str(value)


def _bool(data: Mapping[str, Any], key: str, errors: Errors) -> bool | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, bool):
        errors.append({"field": key, "message": f"must be true or false (got {value!r})"})
        return None
    return value


def _name(data: Mapping[str, Any], errors: Errors) -> str | None:
    name = data.get("name")
    if name is not None and (not isinstance(name, str) or len(name) > MAX_NAME_CHARS or not name.isprintable()):
        errors.append({"field": "name", "message": f"must be printable text of at most {MAX_NAME_CHARS} characters"})
        return None
    return name or None


def _repeat(data: Mapping[str, Any], errors: Errors) -> Repeat | None:
    value = data.get("repeat")
    if value is None:
        return None
    if not isinstance(value, Mapping):
        errors.append({"field": "repeat", "message": 'must be an object {"count": K, "interval_s": T}'})
        return None
    inner: Errors = []
    for key in value:
        if key not in ("count", "interval_s"):
            inner.append({"field": f"repeat.{key}", "message": "unknown field; allowed: count, interval_s"})
    count = _integer(value, "count", MIN_REPEAT, MAX_REPEAT, inner)
    interval = _number(value, "interval_s", inner)
    if interval is not None and not 0 <= interval <= MAX_REPEAT_INTERVAL_S:
        inner.append(
            {"field": "interval_s", "message": f"must be between 0 and {MAX_REPEAT_INTERVAL_S:g} s (got {interval:g})"}
        )
        interval = None
    for key in ("count", "interval_s"):
        if value.get(key) is None:
            inner.append({"field": key, "message": "is required"})
    for e in inner:
        field = e["field"] if e["field"].startswith("repeat.") else f"repeat.{e['field']}"
        errors.append({"field": field, "message": e["message"]})
    if count is None or interval is None:
        return None
    return Repeat(count, interval)


# One checker per field: the single definition of what each value may be.
_CHECKS: dict[str, Callable[[Mapping[str, Any], Errors], Any]] = {
    "start_um": lambda d, e: _number(d, "start_um", e),
    "end_um": lambda d, e: _number(d, "end_um", e),
    "step_um": lambda d, e: _positive(d, "step_um", e),
    "frames": lambda d, e: _integer(d, "frames", 1, MAX_FRAMES, e),
    "distance_um": lambda d, e: _positive(d, "distance_um", e),
    "direction": _direction,
    "settle_ms": lambda d, e: _integer(d, "settle_ms", 0, MAX_SETTLE_MS, e),
    "first_settle_ms": lambda d, e: _integer(d, "first_settle_ms", 0, MAX_SETTLE_MS, e),
    "shots_per_position": lambda d, e: _integer(d, "shots_per_position", 1, MAX_SHOTS_PER_POSITION, e),
    "shot_interval_ms": lambda d, e: _integer(d, "shot_interval_ms", 0, MAX_SHOT_INTERVAL_MS, e),
    "return_to_start": lambda d, e: _bool(d, "return_to_start", e),
    "name": _name,
    "repeat": _repeat,
}


def check_fields(data: Mapping[str, Any], allowed: tuple[str, ...], errors: Errors) -> dict[str, Any]:
    """Each present field checked on its own; unknown fields are errors. Returns the values."""
    for key in data:
        if key not in allowed:
            errors.append({"field": str(key), "message": "unknown field; allowed: " + ", ".join(allowed)})
    return {key: _CHECKS[key](data, errors) for key in allowed if key in _CHECKS}


def _place(
    data: Mapping[str, Any], v: dict[str, Any], here_um: float | None, errors: Errors
) -> tuple[float | None, float | None, int | None]:
    """Absolute start and end, and the frame count for the planner, from the given mode."""
    given = {k for k in ("start_um", "end_um", "step_um", "frames", "distance_um") if data.get(k) is not None}
    frames = v["frames"]
    if "distance_um" in given:
        for key in ("start_um", "end_um"):
            if key in given:
                errors.append({"field": key, "message": "distance_um plans from the rail's position; give no " + key})
        if data.get("direction") is None:
            errors.append({"field": "direction", "message": 'is required with distance_um: "+" or "-"'})
        if ("step_um" in given) == ("frames" in given):
            errors.append({"field": "step_um", "message": "give either step_um or frames with distance_um"})
        if here_um is None:
            errors.append({"field": "distance_um", "message": "the rail's position is unknown; home or zero it"})
        if v["distance_um"] is None or v["direction"] is None or here_um is None:
            return None, None, frames
        sign = 1 if v["direction"] == "+" else -1
        return here_um, here_um + sign * v["distance_um"], frames
    if data.get("start_um") is None:
        errors.append({"field": "start_um", "message": "is required (µm), or give distance_um to plan from here"})
    if "end_um" not in given:
        if {"step_um", "frames"} <= given:
            # Count from the start: frames − 1 steps of step_um in `direction`.
            if v["start_um"] is None or v["step_um"] is None or frames is None:
                return None, None, frames
            sign = -1 if v["direction"] == "-" else 1
            return v["start_um"], v["start_um"] + sign * (frames - 1) * v["step_um"], frames
        if data.get("start_um") is not None or not given:
            errors.append(
                {"field": "end_um", "message": "is required (µm), unless both frames and step_um count from the start"}
            )
        if not {"step_um", "frames"} & given:
            errors.append({"field": "step_um", "message": "give either step_um or frames"})
        return None, None, frames
    if data.get("direction") is not None:
        errors.append({"field": "direction", "message": "only with distance_um, or frames and step_um without end_um"})
    if {"step_um", "frames"} <= given:
        errors.append({"field": "frames", "message": "give either step_um or frames, not both (or leave out end_um)"})
    elif not {"step_um", "frames"} & given:
        errors.append({"field": "step_um", "message": "give either step_um or frames"})
    return v["start_um"], v["end_um"], frames


def parse_request(
    data: Mapping[str, Any],
    *,
    default_settle_ms: int,
    default_shot_interval_ms: int,
    here_um: float | None = None,
) -> StackRequest:
    """A typed request with absolute start and end, or `InvalidPlan` listing every problem.
    `here_um` is the rail's position, for "distance from here"."""
    errors: Errors = []
    v = check_fields(data, FIELDS, errors)
    start_um, end_um, frames = _place(data, v, here_um, errors)
    if errors:
        raise InvalidPlan(errors)
    assert start_um is not None and end_um is not None
    return StackRequest(
        start_um=start_um,
        end_um=end_um,
        step_um=v["step_um"],
        frames=frames,
        settle_ms=default_settle_ms if v["settle_ms"] is None else v["settle_ms"],
        shots_per_position=1 if v["shots_per_position"] is None else v["shots_per_position"],
        shot_interval_ms=default_shot_interval_ms if v["shot_interval_ms"] is None else v["shot_interval_ms"],
        return_to_start=True if v["return_to_start"] is None else v["return_to_start"],
        name=v["name"],
        first_settle_ms=v["first_settle_ms"],
        repeat=v["repeat"],
    )


def absolute_body(req: StackRequest) -> dict[str, Any]:
    """The request as a plain body with absolute start and end (a series' later runs)."""
    body: dict[str, Any] = {
        "start_um": req.start_um,
        "end_um": req.end_um,
        "settle_ms": req.settle_ms,
        "shots_per_position": req.shots_per_position,
        "shot_interval_ms": req.shot_interval_ms,
        "return_to_start": req.return_to_start,
    }
    if req.step_um is not None:
        body["step_um"] = req.step_um
    if req.frames is not None:
        body["frames"] = req.frames
    if req.step_um is not None and req.frames is not None:  # counted from the start
        del body["end_um"]
        body["direction"] = "+" if req.end_um >= req.start_um else "-"
    if req.first_settle_ms is not None:
        body["first_settle_ms"] = req.first_settle_ms
    if req.name is not None:
        body["name"] = req.name
    return body


def body_schema() -> dict[str, Any]:
    """JSON Schema of the body, for the API's documentation; made from the same limits
    the checks above enforce (which stay the authority: the schema cannot say which
    fields go together)."""
    um = {"type": "number", "minimum": -MAX_ABS_UM, "maximum": MAX_ABS_UM}
    positive_um = {"type": "number", "exclusiveMinimum": 0, "maximum": MAX_ABS_UM}

    def whole(low: int, high: int, description: str = "") -> dict[str, Any]:
        schema: dict[str, Any] = {"type": "integer", "minimum": low, "maximum": high}
        if description:
            schema["description"] = description
        return schema

    return {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "start_um": um,
            "end_um": um,
            "step_um": positive_um,
            "frames": whole(1, MAX_FRAMES),
            "distance_um": {**positive_um, "description": "from the rail's position now, with direction"},
            "direction": {"type": "string", "enum": list(DIRECTIONS)},
            "settle_ms": whole(0, MAX_SETTLE_MS, "default: camera.settle_ms"),
            "first_settle_ms": whole(0, MAX_SETTLE_MS, "settle before a run's first frame; default: settle_ms"),
            "shots_per_position": whole(1, MAX_SHOTS_PER_POSITION),
            "shot_interval_ms": whole(0, MAX_SHOT_INTERVAL_MS, "default: camera.shot_interval_ms"),
            "return_to_start": {"type": "boolean"},
            "name": {"type": "string", "maxLength": MAX_NAME_CHARS},
            "repeat": {
                "type": "object",
                "additionalProperties": False,
                "required": ["count", "interval_s"],
                "properties": {
                    "count": whole(MIN_REPEAT, MAX_REPEAT),
                    "interval_s": {"type": "number", "minimum": 0, "maximum": MAX_REPEAT_INTERVAL_S},
                },
            },
            "preset": {"type": "string", "maxLength": 64, "description": "a saved preset; fields given override it"},
        },
    }
