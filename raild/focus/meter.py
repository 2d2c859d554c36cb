"""Live sharpness meter: one figure (and a coarse tile grid) per live-view frame.

Measures the frame live view already shares between viewers, so polling the meter
adds no camera load; a frame is measured once however many clients ask. Decoding at
<= 640 px plus one Laplacian pass costs a few ms (docs/benchmarks.md).
"""

from __future__ import annotations

import asyncio
from typing import Any

import numpy as np

from raild.focus.measure import decode_frame, tile_sharpness

METER_MAX_PX = 640


def measure_preview(jpeg: bytes) -> dict[str, Any]:
    grid = tile_sharpness(decode_frame(jpeg, METER_MAX_PX).gray)
    flat = np.sort(grid.ravel())
    top = flat[-max(1, flat.size // 4) :]
    peak = float(grid.max()) or 1.0
    return {
        "sharpness": round(float(top.mean()), 3),
        "tiles": {
            "rows": int(grid.shape[0]),
            "cols": int(grid.shape[1]),
            "values": np.round(grid / peak, 3).tolist(),  # 0..1 of the sharpest tile: a coarse peaking map
        },
    }


class SharpnessMeter:
    def __init__(self) -> None:
        self._taken_at: float | None = None
        self._reading: dict[str, Any] | None = None
        self._lock = asyncio.Lock()

    async def reading(self, jpeg: bytes, taken_at: float) -> dict[str, Any]:
        async with self._lock:
            if self._taken_at != taken_at or self._reading is None:
                self._reading = await asyncio.to_thread(measure_preview, jpeg)
                self._taken_at = taken_at
            return self._reading
