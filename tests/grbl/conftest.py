from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from raild.config import Config
from raild.drives.grbl.drive import GrblDrive
from raild.sim.grbl.sim import GrblSim

# Simulated: a time-scaled emulator clock; 8 microsteps = 1600 steps/mm, so grbl's
# 1 µm reports do not resolve a step and the drive's exact-stop path is exercised.
TIME_SCALE = 5.0  # 1600 steps/mm at up to 4000 steps/s: 20 000 steps/s of host time, well within the emulator


def grbl_config(start_um: float = 5000.0, **rail: object) -> Config:
    return Config().with_overrides(
        sim={"time_scale": TIME_SCALE, "start_position_um": start_um},
        rail={"microsteps": 8, **rail},
        homing={"seek_speed_um_s": 3000.0, "approach_speed_um_s": 1000.0},  # quick homing, same logic
    )


@pytest.fixture
def sim() -> Iterator[GrblSim]:
    s = GrblSim(grbl_config())
    s.start_blocking()
    try:
        yield s
    finally:
        s.stop_blocking()


@pytest.fixture
async def drive(sim: GrblSim) -> AsyncIterator[GrblDrive]:
    d = GrblDrive(sim.config, sim.url)
    await d.start()
    try:
        yield d
    finally:
        await d.close()
