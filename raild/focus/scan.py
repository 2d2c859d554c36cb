"""Focus scan: sweep the rail through a range with live view and find where the subject is.

At each of `samples` evenly spaced positions the rail stops, one live-view frame is
measured on the tile grid, and the scan moves on. `suggest_range` (pure) then finds,
for every textured tile, the position where it was sharpest (refined between samples
with the coverage model) and proposes start/end that cover all of them with one
measured depth of field to spare on each side.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from raild.camera.protocol import Capabilities
from raild.focus.coverage import FLOOR_SHARE, Q, dof_from_width, textured, vertex_fits
from raild.focus.errors import Refused
from raild.focus.measure import decode_frame, tile_sharpness
from raild.logs import log_event

log = logging.getLogger("raild.focus.scan")
MIN_SAMPLES = 3  # a peak needs a neighbour on each side
DEFAULT_SAMPLES = 41
MAX_SAMPLES = 400
PREVIEW_MAX_PX = 640
NO_LIVE_VIEW = (
    "the {backend} camera has no live view, so a focus scan cannot see the subject; shoot a quick "
    "test stack instead (a coarse step at the lowest JPEG size) and read its coverage "
    "(GET /api/v1/stacks/{{id}}/coverage)"
)


class ScanRail(Protocol):
    def move_to_um(self, um: float) -> Awaitable[object]: ...


class ScanCamera(Protocol):
    backend: str
    capabilities: Capabilities

    def preview(self) -> Awaitable[bytes]: ...


class ScanRefused(Refused):
    """A scan that cannot start (503 no live view, 409 one is running, 422 bad range)."""


def suggest_range(positions_um: Sequence[float], tiles: np.ndarray) -> tuple[dict[str, float] | None, float | None]:
    """({start_um, end_um} or None, measured DOF or None); start/end follow the scan's direction."""
    xs = np.asarray(positions_um, dtype=np.float64)
    if len(xs) < 3:
        return None, None
    s = np.asarray(tiles, dtype=np.float64).reshape(len(xs), -1)
    sign = 1.0 if xs[-1] >= xs[0] else -1.0
    u = (xs - xs[0]) * sign
    tex = textured(s)
    if not tex.any():
        return None, None
    st = s[:, tex]
    lifted = np.maximum(st - FLOOR_SHARE * st.min(axis=0), 1e-12)
    y = lifted ** (-1.0 / Q)
    k = np.argmax(st, axis=0)
    peaks = u[k].astype(np.float64)
    inner = (k > 0) & (k < len(u) - 1)
    dof = None
    if inner.any():
        p, w, _ = vertex_fits(u, y[:, inner], k[inner])
        ok = np.isfinite(p) & (np.abs(p - u[k[inner]]) <= np.median(np.diff(u)))
        refined = peaks[inner]
        refined[ok] = p[ok]
        peaks[inner] = refined
        if np.isfinite(w).any():
            dof = dof_from_width(float(np.percentile(w[np.isfinite(w)], 25)))
    margin = dof if dof is not None else float(np.median(np.diff(u)))
    lo, hi = float(peaks.min()) - margin, float(peaks.max()) + margin
    return {"start_um": round(float(xs[0] + sign * lo), 1), "end_um": round(float(xs[0] + sign * hi), 1)}, dof


@dataclass
class _Scan:
    from_um: float
    to_um: float
    positions_um: list[float]
    state: str = "running"
    started_at: float = 0.0
    samples: list[tuple[float, float]] | None = None
    tiles: list[np.ndarray] | None = None
    suggest: dict[str, float] | None = None
    dof_um: float | None = None
    error: dict[str, str] | None = None


class FocusScanner:
    """One scan at a time; the latest one's result stays readable."""

    def __init__(self) -> None:
        self._scan: _Scan | None = None
        self._task: asyncio.Task[None] | None = None
        self._stop_asked = False

    def cancel(self) -> bool:
        """Ask a running scan to end before its next move (a move under way finishes, or is
        cut short by the rail's own stop). True when a scan was running."""
        if not self.running:
            return False
        self._stop_asked = True
        return True

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(
        self, rail: ScanRail, camera: ScanCamera, from_um: float, to_um: float, samples: int = DEFAULT_SAMPLES
    ) -> dict[str, Any]:
        if self.running:
            raise ScanRefused(409, "scan_running", "a focus scan is already running")
        if not camera.capabilities.preview:
            raise ScanRefused(503, "no_live_view", NO_LIVE_VIEW.format(backend=camera.backend))
        if not all(math.isfinite(v) for v in (from_um, to_um)) or from_um == to_um:
            raise ScanRefused(422, "invalid_range", "from_um and to_um must be different finite positions")
        samples = max(MIN_SAMPLES, min(MAX_SAMPLES, int(samples)))
        positions = list(np.linspace(from_um, to_um, samples))
        self._stop_asked = False
        self._scan = _Scan(from_um, to_um, positions, started_at=time.time(), samples=[], tiles=[])
        self._task = asyncio.get_running_loop().create_task(self._run(self._scan, rail, camera), name="focus-scan")
        return self.status()

    async def stop(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self, scan: _Scan, rail: ScanRail, camera: ScanCamera) -> None:
        assert scan.samples is not None and scan.tiles is not None
        try:
            for x in scan.positions_um:
                if self._stop_asked:
                    scan.state, scan.error = "failed", {"code": "stopped", "message": "the scan was stopped"}
                    return
                await rail.move_to_um(x)
                jpeg = await camera.preview()
                gray = (await asyncio.to_thread(decode_frame, jpeg, PREVIEW_MAX_PX)).gray
                grid = await asyncio.to_thread(tile_sharpness, gray)
                scan.tiles.append(grid.ravel())
                top = np.sort(grid.ravel())[-max(1, grid.size // 4) :]
                scan.samples.append((float(x), float(top.mean())))
            scan.suggest, scan.dof_um = suggest_range([p for p, _ in scan.samples], np.stack(scan.tiles))
            scan.state = "done"
        except asyncio.CancelledError:
            scan.state, scan.error = "failed", {"code": "cancelled", "message": "the scan was stopped"}
            raise
        except Exception as exc:  # a move refused, a stop, a camera error: the scan ends, with why
            code = getattr(exc, "code", None) or type(exc).__name__
            scan.state, scan.error = "failed", {"code": str(code), "message": f"focus scan failed: {exc}"}
            log_event(log, "focus scan failed", logging.WARNING, error=str(exc))

    def status(self) -> dict[str, Any]:
        scan = self._scan
        if scan is None:
            return {"state": "idle", "samples": [], "suggest": None, "dof_um": None, "error": None}
        return {
            "state": scan.state,
            "from_um": scan.from_um,
            "to_um": scan.to_um,
            "planned_samples": len(scan.positions_um),
            "samples": [{"position_um": round(p, 2), "sharpness": round(v, 3)} for p, v in scan.samples or []],
            "suggest": scan.suggest,
            "dof_um": None if scan.dof_um is None else round(scan.dof_um, 1),
            "error": scan.error,
        }
