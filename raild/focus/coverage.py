"""Does a stack cover its subject? Pure analysis of per-tile sharpness against position.

Model: for a textured patch, the energy of its finest detail falls with defocus d as

    S(d) = S0 * (1 + ((d - p) / w)**2) ** -Q

(a Gaussian-blurred texture whose blur grows linearly with defocus: the Laplacian
energy goes as sigma**-2Q, Q = 3 for fine texture). So y = S**(-1/Q) is a parabola in
position with its vertex at the patch's focus position p, and three frames give p and
w exactly. The depth of field is the width where S stays above half its peak:
DOF = 2 w sqrt(2**(1/Q) - 1), taken as the median over every patch whose peak lies
inside the stack.

- A tile is *textured* when its sharpness changes across the frames (max >= 2 x min);
  flat ones (sky, a backdrop, identical frames) say nothing about depth and are ignored.
- `near_end` is "cut" when a tile peaks at the first frame and the model puts its focus
  beyond that frame's depth of field; likewise `far_end` at the last frame. How far
  beyond is fitted with the measured width, so the suggestion extends by that much
  plus one DOF of margin.
- A *gap* is a depth between two frames where a tile came into focus but no frame was
  within half a DOF of it (the curve fell between two frames: step too large).

Positions are in focus order (first frame = near end); shots at one position are averaged.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NotRequired, TypedDict

import numpy as np

from raild.stacks.optics import DEFAULT_OVERLAP

Q = 3.0
CONTRAST = 2.0  # a textured tile's sharpest frame is at least this many times its softest
MIN_ENERGY = 0.5  # below this a tile is JPEG noise on a flat area (Laplacian energy, 0..255 scale)
MIN_POSITIONS = 3
FLOOR_SHARE = 0.9  # of a tile's softest frame, taken as its floor
EDGE_FIT_SHARE = 0.02  # edge points used while above this share of the edge frame's (floor-free) sharpness
CUT_PERCENTILE = 95
WIDTH_PERCENTILE = 25
PLAUSIBLE_PEAK = 100.0  # a cut tile's implied peak may be this many times the median in-focus peak
CUT_MIN_SHARE = 0.01  # of textured tiles that must be cut for an end to be flagged
EDGE_POINTS = 4  # frames next to an end used to fit how far beyond it a tile peaks


class _Measured(TypedDict):
    """What every verdict past the first checks carries (keyword arguments of `Coverage`)."""

    state: str
    frames_analyzed: int
    tiles: int
    textured_tiles: NotRequired[int]
    step_um: NotRequired[float]


@dataclass(frozen=True)
class Coverage:
    state: str  # pending | partial | final
    frames_analyzed: int
    complete: bool = False
    near_end: str = "covered"
    far_end: str = "covered"
    gaps: list[tuple[float, float]] = field(default_factory=list)
    suggest: dict[str, float] | None = None
    depth_information: bool = False
    dof_um: float | None = None
    step_um: float | None = None
    textured_tiles: int = 0
    tiles: int = 0
    detail: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "frames_analyzed": self.frames_analyzed,
            "complete": self.complete,
            "near_end": self.near_end,
            "far_end": self.far_end,
            "gaps": [{"from_um": round(a, 1), "to_um": round(b, 1)} for a, b in self.gaps],
            "suggest": self.suggest,
            "depth_information": self.depth_information,
            "dof_um": None if self.dof_um is None else round(self.dof_um, 1),
            "step_um": None if self.step_um is None else round(self.step_um, 1),
            "textured_tiles": self.textured_tiles,
            "tiles": self.tiles,
            "detail": self.detail,
        }


def dof_from_width(w: float, q: float = Q) -> float:
    return 2.0 * w * math.sqrt(2.0 ** (1.0 / q) - 1.0)


def textured(sharpness: np.ndarray) -> np.ndarray:
    """Boolean per tile (columns of a frames x tiles array)."""
    top, low = sharpness.max(axis=0), sharpness.min(axis=0)
    return (top >= MIN_ENERGY) & (top >= CONTRAST * np.maximum(low, 1e-9))


def vertex_fits(u: np.ndarray, y: np.ndarray, k: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per column j, the parabola through (u[k-1], u[k], u[k+1]) of y[:, j]: vertex p, width w
    and y at the vertex (NaN where the three points do not open upwards)."""
    cols = np.arange(y.shape[1])
    u0, u1, u2 = u[k - 1], u[k], u[k + 1]
    y0, y1, y2 = y[k - 1, cols], y[k, cols], y[k + 1, cols]
    # Divided differences.
    d01 = (y1 - y0) / (u1 - u0)
    d12 = (y2 - y1) / (u2 - u1)
    a = (d12 - d01) / (u2 - u0)
    b = d01 - a * (u0 + u1)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = -b / (2 * a)
        vertex = y1 - a * (u1 - p) ** 2  # y at the vertex
        w = np.sqrt(vertex / a)
    ok = (a > 0) & (vertex > 0) & np.isfinite(w)
    return np.where(ok, p, np.nan), np.where(ok, w, np.nan), np.where(ok, vertex, np.nan)


def beyond_edge(u: np.ndarray, y: np.ndarray, w: float, reach: float, min_beta: float | None = None) -> float:
    """Focus position of a tile that peaks at the end frame u[0] (u ascending into the stack):
    the p in [u[0] - reach, u[1]] that best fits y = beta (1 + ((u - p)/w)^2).

    Sampled sparsely, a falling curve fits two ways: just inside the stack between two
    frames, or far outside on the flat tail. The far fit implies a peak sharpness
    (beta**-Q) far above anything in focus in this stack; `min_beta` rules those out."""
    candidates = np.linspace(u[0] - reach, u[1], 1201)
    g = 1.0 + ((u[None, :] - candidates[:, None]) / w) ** 2
    beta = (g * y[None, :]).sum(axis=1) / (g * g).sum(axis=1)
    residual = ((y[None, :] / (beta[:, None] * g) - 1.0) ** 2).sum(axis=1)
    if min_beta is not None and np.any(beta >= min_beta):
        residual = np.where(beta >= min_beta, residual, np.inf)
    return float(candidates[int(np.argmin(residual))])


def analyse_coverage(
    positions_um: Sequence[float],
    sharpness: np.ndarray,
    *,
    state: str,
    overlap: float = DEFAULT_OVERLAP,
) -> Coverage:
    """`sharpness`: frames x tiles, rows in focus order matching `positions_um`."""
    n = len(positions_um)
    if n == 0:
        return Coverage(state="pending", frames_analyzed=0, detail="no frame analysed yet")
    s_all = np.asarray(sharpness, dtype=np.float64).reshape(n, -1)
    tiles = s_all.shape[1]
    x_frames = np.asarray(positions_um, dtype=np.float64)
    # One row per position, in focus order; repeated shots averaged.
    xs, first = np.unique(x_frames, return_index=True)
    order = np.argsort(first)
    xs = xs[order]
    s = np.stack([s_all[x_frames == x].mean(axis=0) for x in xs]) if len(xs) else s_all
    m = len(xs)
    base: _Measured = {"state": state, "frames_analyzed": n, "tiles": tiles}
    if m < MIN_POSITIONS:
        return Coverage(**base, detail=f"needs frames at {MIN_POSITIONS} or more positions to judge depth")
    sign = 1.0 if xs[-1] >= xs[0] else -1.0
    u = (xs - xs[0]) * sign
    if np.any(np.diff(u) <= 0):  # not monotonic (hand-edited positions): judge in depth order
        idx = np.argsort(u)
        xs, s = xs[idx], s[idx]
        u = (xs - xs[0]) * sign
    step = float(np.median(np.diff(u)))
    tex = textured(s)
    count = int(tex.sum())
    base["textured_tiles"] = count
    base["step_um"] = step
    if count == 0:
        return Coverage(
            **base,
            detail="no depth information: no part of the frames gets sharper or softer from frame to frame "
            "(identical frames, or a subject without texture)",
        )
    st = s[:, tex]
    # What is left of a tile's detail far out of focus (noise, coarse structure) is a floor
    # under the model's curve: take it off, or far tails read as a focus further away.
    floor = FLOOR_SHARE * st.min(axis=0)
    lifted = st - floor
    y = np.maximum(lifted, 1e-12) ** (-1.0 / Q)
    k = np.argmax(st, axis=0)
    inner = (k > 0) & (k < m - 1)
    empty = np.array([])
    p_in, w_in, v_in = vertex_fits(u, y[:, inner], k[inner]) if inner.any() else (empty, empty, empty)
    good = np.isfinite(w_in)
    # Peaks in y are minima: a peak sharpness PLAUSIBLE_PEAK x the median in-focus one is beta below this.
    min_beta = float(np.median(v_in[good])) * PLAUSIBLE_PEAK ** (-1.0 / Q) if good.any() else None
    # A low percentile, not the median: a curve sampled too sparsely, or one whose tail sinks
    # into the floor, only ever reads wider than it is.
    w_med = float(np.percentile(w_in[good], WIDTH_PERCENTILE)) if good.any() else None
    if w_med is None:
        # Every tile peaks at an end: the depth of field is not measurable here; assume a step's worth.
        w_med = step / (2.0 * math.sqrt(2.0 ** (1.0 / Q) - 1.0))
    dof = dof_from_width(w_med)
    half = dof / 2.0
    span = float(u[-1] - u[0])
    reach = max(span, 10.0 * w_med)

    gaps: list[tuple[float, float]] = []
    for p in p_in[good]:
        j = int(np.searchsorted(u, p)) - 1
        if j < 0 or j >= m - 1 or min(p - u[j], u[j + 1] - p) <= half:
            continue
        lo, hi = u[j] + half, u[j + 1] - half
        if lo < hi and (lo, hi) not in gaps:
            gaps.append((lo, hi))

    def overshoot(cols: np.ndarray, at_near: bool) -> float:
        """How far beyond the end the cut tiles come into focus (0: none is cut). A high
        percentile, not the maximum: one noisy tile must not double the suggestion."""
        found = []
        pts = min(EDGE_POINTS, m)
        for j in np.flatnonzero(cols):
            col, level = y[:, j], lifted[:, j]
            if at_near:
                uu, yy, ll = u[:pts], col[:pts], level[:pts]
            else:
                uu, yy, ll = (u[-1] - u[::-1])[:pts], col[::-1][:pts], level[::-1][:pts]
            keep = ll >= EDGE_FIT_SHARE * ll[0]  # points lost in the floor would only add noise
            keep[:3] = True  # two points fit any focus position: never fewer than three
            beyond = uu[0] - beyond_edge(uu[keep], yy[keep], w_med, reach, min_beta)
            if beyond > half:
                found.append(beyond)
        if len(found) < max(1, CUT_MIN_SHARE * count):
            return 0.0
        return float(np.percentile(found, CUT_PERCENTILE))

    near_over = overshoot(k == 0, True)
    far_over = overshoot(k == m - 1, False)
    near_end = "cut" if near_over > 0 else "covered"
    far_end = "cut" if far_over > 0 else "covered"
    complete = near_end == "covered" and far_end == "covered" and not gaps
    suggest = None
    if not complete:
        ext_near = near_over + dof if near_over > 0 else 0.0
        ext_far = far_over + dof if far_over > 0 else 0.0
        new_step = dof * (1.0 - overlap) if gaps else step
        suggest = {
            "start_um": round(float(xs[0] - sign * ext_near), 1),
            "end_um": round(float(xs[-1] + sign * ext_far), 1),
            "step_um": round(float(min(new_step, step)), 1),
        }
    ends_um = [sorted((xs[0] + sign * a, xs[0] + sign * b)) for a, b in gaps]
    gaps_um = sorted((lo, hi) for lo, hi in ends_um)
    return Coverage(
        **base,
        complete=complete,
        near_end=near_end,
        far_end=far_end,
        gaps=[(float(a), float(b)) for a, b in gaps_um],
        suggest=suggest,
        depth_information=True,
        dof_um=dof,
    )
