"""What a plan needs to know about the rail: scale, soft limits, speeds, approach side.

Built from the config, with the rail's own µm↔steps conversion when a rail is at hand,
so plans land on exactly the microsteps the rail will move to.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from raild.config import RailConfig


@dataclass(frozen=True)
class RailGeometry:
    um_per_step: float
    soft_min_um: float
    soft_max_um: float
    reliable_step_um: float
    max_speed_um_s: float
    start_speed_um_s: float
    accel_um_s2: float
    backlash_um: float
    approach_sign: int  # +1: every final approach moves towards larger positions
    um_to_steps: Callable[[float], int]
    steps_to_um: Callable[[int], float]

    @classmethod
    def from_config(
        cls,
        rail: RailConfig,
        um_to_steps: Callable[[float], int] | None = None,
        steps_to_um: Callable[[int], float] | None = None,
    ) -> RailGeometry:
        um_per_step = rail.um_per_step
        return cls(
            um_per_step=um_per_step,
            soft_min_um=rail.soft_min_um,
            soft_max_um=rail.soft_max,
            reliable_step_um=rail.reliable_step_um,
            max_speed_um_s=rail.max_speed_um_s,
            start_speed_um_s=rail.start_speed_um_s,
            accel_um_s2=rail.accel_um_s2,
            backlash_um=rail.backlash_um,
            approach_sign=1 if rail.approach == "positive" else -1,
            um_to_steps=um_to_steps or (lambda um: round(um / um_per_step)),
            steps_to_um=steps_to_um or (lambda steps: steps * um_per_step),
        )
