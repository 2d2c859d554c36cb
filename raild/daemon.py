"""The daemon: wires the layers together and owns their lifecycle.

It builds (in order) the virtual rig when simulating, the pigpio connection,
the rail, the camera and the stack manager, and tears them down in reverse.
The API reads everything through this object; nothing below it knows HTTP.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from raild import __version__
from raild.config import Config
from raild.events import EventBus
from raild.logs import log_event

log = logging.getLogger("raild.daemon")


class Daemon:
    def __init__(self, config: Config, state_dir: Path, token: str, sim: bool) -> None:
        self.config = config
        self.state_dir = state_dir
        self.token = token
        self.sim_mode = sim
        self.events = EventBus()
        self.version = __version__
        # Filled in by start() as each layer is present.
        self.sim: Any = None
        self.hw: Any = None
        self.rail: Any = None
        self.camera: Any = None
        self.stacks: Any = None

    async def start(self) -> None:
        import asyncio

        self.events.bind_loop(asyncio.get_running_loop())
        log_event(log, "daemon starting", sim=self.sim_mode, state_dir=str(self.state_dir))

    async def stop(self) -> None:
        log_event(log, "daemon stopped")

    def status(self) -> dict[str, Any]:
        """The `GET /status` document (API.md), assembled from each layer's status."""
        rail: dict[str, Any] = self.rail.status() if self.rail is not None else {
            "state": "fault",
            "position_um": None,
            "position_steps": None,
            "position_known": False,
            "homed": False,
            "motor_enabled": False,
            "limits": {"min_um": self.config.rail.soft_min_um, "max_um": self.config.rail.soft_max},
            "switches": {"min": False, "max": False},
            "fault": {"code": "no_rail", "message": "motion layer not available"},
        }
        camera = self.camera.status() if self.camera is not None else {
            "backend": self.config.camera.backend, "connected": False, "model": None,
        }
        job = self.stacks.job_summary() if self.stacks is not None else None
        return {**rail, "camera": camera, "job": job}
