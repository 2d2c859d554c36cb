"""`--sim` with `[drive] backend = "grbl"`: the emulator in-process, on a free localhost port.

The daemon calls `start_grbl_sim(config)` where it would start `SimRig`, and gives
the returned URL to `GrblDrive(config, port=url)`; `await sim.stop()` at shutdown.
"""

from __future__ import annotations

from raild.config import Config
from raild.sim.grbl.sim import GrblSim


async def start_grbl_sim(config: Config) -> tuple[GrblSim, str]:
    """A running grbl emulator attached to a fresh virtual rail, and the pyserial URL to open."""
    sim = GrblSim(config)
    url = await sim.start("127.0.0.1", 0)
    return sim, url
