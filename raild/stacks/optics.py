"""Depth of field → stack step, for camera lenses at macro magnification.

DOF = 2·c·N·(m+1)/m² (c: circle of confusion, N: nominal f-number, m: magnification);
consecutive frames overlap by a fraction of the DOF so no slice falls between two.
"""

from __future__ import annotations

import math

from raild.stacks.errors import InvalidPlan

DEFAULT_COC_UM = 15.0
DEFAULT_OVERLAP = 0.2
# 0.01 (1:100) is below any macro lens; smaller values only overflow the formula.
MIN_MAGNIFICATION = 0.01
MAX_MAGNIFICATION = 100
MAX_APERTURE = 256
MAX_COC_UM = 1000


def _check(
    field: str,
    value: float,
    low: float,
    high: float,
    allowed: str,
    *,
    low_inclusive: bool = False,
    high_inclusive: bool = True,
) -> list[dict[str, str]]:
    """One `{field, message}` if `value` is not a finite number between low and high
    (each end included or not as the flags say; by default (low, high])."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return [{"field": field, "message": f"must be a finite number, {allowed} (got {value!r})"}]
    above = low <= value if low_inclusive else low < value
    below = value <= high if high_inclusive else value < high
    return [] if above and below else [{"field": field, "message": f"must be {allowed} (got {value:g})"}]


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
        _check(
            "magnification",
            magnification,
            MIN_MAGNIFICATION,
            MAX_MAGNIFICATION,
            f"at least {MIN_MAGNIFICATION:g} and at most {MAX_MAGNIFICATION:g}",
            low_inclusive=True,
        )
        + _check("aperture", aperture, 0.0, MAX_APERTURE, f"greater than 0 and at most {MAX_APERTURE:g}")
        + _check("coc_um", coc_um, 0.0, MAX_COC_UM, f"greater than 0 and at most {MAX_COC_UM:g}")
        + _check("overlap", overlap, 0.0, 1.0, "at least 0 and less than 1", low_inclusive=True, high_inclusive=False)
    )
    if errors:
        raise InvalidPlan(errors)
    m = float(magnification)
    dof = 2.0 * coc_um * aperture * (m + 1.0) / (m * m)
    return dof, dof * (1.0 - overlap)
