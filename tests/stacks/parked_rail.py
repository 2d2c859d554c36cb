"""A rail that never moves, for manager tests about what is on disk: it satisfies
`raild.stacks.rail_port.StackRail` with the configured scale, idle and unhomed."""

from __future__ import annotations

from typing import Any

from raild.config import Config


class ParkedRail:
    def __init__(self, config: Config) -> None:
        self.um_per_step = config.rail.um_per_step
        self.state = "idle"
        self.homed = False
        self.position_known = False
        self.position_steps = 0

    def um_to_steps(self, um: float) -> int:
        return round(um / self.um_per_step)

    def steps_to_um(self, steps: int) -> float:
        return steps * self.um_per_step

    def status(self) -> dict[str, Any]:
        return {"state": self.state, "limits": None}

    async def stop(self) -> dict[str, Any]:
        return self.status()

    async def move_to_steps(
        self, target_steps: int, speed_um_s: float | None = None, approach: bool = True
    ) -> dict[str, Any]:
        raise AssertionError("a parked rail is never moved")
