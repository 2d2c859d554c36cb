"""Bounds on positions in µm: what any input may say, and where this rail may go."""

from __future__ import annotations

from raild.config import Config

# Far beyond any rail, but small enough that µm → steps stays an exact integer.
MAX_ABS_UM = 10_000_000.0
SWITCH_CLEARANCE_UM = 10.0  # moves stay this far inside a fitted limit switch


def soft_limits_um(config: Config) -> tuple[float, float]:
    """The rail's soft limits: `[rail]`'s, kept clear of fitted limit switches."""
    rc, pins = config.rail, config.pins
    lo, hi = rc.soft_min_um, rc.soft_max
    if pins.limit_min:
        lo = max(lo, SWITCH_CLEARANCE_UM)
    if pins.limit_max:
        hi = min(hi, rc.travel_mm * 1000.0 - SWITCH_CLEARANCE_UM)
    return lo, hi
