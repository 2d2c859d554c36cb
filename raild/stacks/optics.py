"""Depth of field → stack step, for camera lenses at macro magnification.

DOF = 2·c·N·(m+1)/m² (c: circle of confusion, N: nominal f-number, m: magnification);
consecutive frames overlap by a fraction of the DOF so no slice falls between two.
"""

from __future__ import annotations

import math

from raild.stacks.errors import InvalidPlan

DEFAULT_COC_UM = 15.0
DEFAULT_OVERLAP = 0.2


def _check(
    field: str, value: float, low: float, high: float, allowed: str, *, low_inclusive: bool = False
) -> list[dict[str, str]]:
    """One `{field, message}` if `value` is not a finite number in (low, high] (or [low, high))."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return [{"field": field, "message": f"must be a finite number, {allowed} (got {value!r})"}]
    inside = low <= value < high if low_inclusive else low < value <= high
    return [] if inside else [{"field": field, "message": f"must be {allowed} (got {value:g})"}]


def dof_um(magnification: float, aperture: float, coc_um: float = DEFAULT_COC_UM) -> float:
    """Total depth of field in µm at this magnification and nominal f-number."""
    return step_um(magnification, aperture, coc_um, 0.0)[0]


def step_um(
    magnification: float,
    aperture: float,
    coc_um: float = DEFAULT_COC_UM,
    overlap: float = DEFAULT_OVERLAP,
) -> tuple[float, float]:
    """`(dof_um, step_um)`; raises `InvalidPlan` (422) naming each bad argument."""
    errors = (
        _check("magnification", magnification, 0.0, 100.0, "greater than 0 and at most 100")
        + _check("aperture", aperture, 0.0, 256.0, "greater than 0 and at most 256")
        + _check("coc_um", coc_um, 0.0, 1000.0, "greater than 0 and at most 1000")
        + _check("overlap", overlap, 0.0, 1.0, "at least 0 and less than 1", low_inclusive=True)
    )
    if errors:
        raise InvalidPlan(errors)
    m = float(magnification)
    dof = 2.0 * coc_um * aperture * (m + 1.0) / (m * m)
    return dof, dof * (1.0 - overlap)
