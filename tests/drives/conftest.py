"""A Rail on either drive, over a simulated rail (labelled simulated: no hardware here).

`pigpio`: the pigpiod emulator (SimRig) through the real pigpio client, as in tests/motion.
`grbl`: the grbl 1.1 emulator (GrblSim) in-process, through pyserial's socket:// URL.
In both, `true_steps` is the virtual rail's own count of the steps that reached it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

from raild.config import Config
from raild.drives.grbl.drive import GrblDrive
from raild.events import EventBus
from raild.motion.rail import Rail
from tests.grbl.conftest import grbl_config
from tests.motion.motion_bench import close_bench, make_config, open_bench


@dataclass
class RailBench:
    kind: str
    rail: Rail
    events: EventBus
    sim: Any  # SimRig or GrblSim: both have .rail.true_position_steps / lost_steps
    lost_accepted: int = 0  # steps lost while the rail said its position was unknown

    @property
    def true_steps(self) -> int:
        return int(self.sim.rail.true_position_steps)

    def assert_in_sync(self) -> None:
        """Exact when known; steps are lost only ever with the position unknown (see
        `tests.motion.motion_bench.Bench.assert_in_sync`)."""
        lost = int(self.sim.rail.lost_steps)
        if self.rail.position_known:
            assert lost == self.lost_accepted, f"{lost - self.lost_accepted} steps lost with the position known"
            assert self.rail.position_steps == self.true_steps
        else:
            self.lost_accepted = lost


def config_for(kind: str, **sections: dict[str, Any]) -> Config:
    if kind == "pigpio":
        return make_config(**sections)
    base = grbl_config(start_um=2_000.0, idle_disable_s=0.0)
    data = base.model_dump()
    data["drive"]["backend"] = "grbl"
    for name, values in sections.items():
        data[name].update(values)
    return Config.model_validate(data)


async def open_rail(kind: str, config: Config) -> tuple[RailBench, Any]:
    if kind == "pigpio":
        b = await open_bench(config)
        return RailBench(kind, b.rail, b.events, b.rig), b
    from raild.drives.factory import start_grbl_sim

    sim, url = await start_grbl_sim(config)
    events = EventBus()
    events.bind_loop(asyncio.get_running_loop())
    rail = Rail(config, None, events, drive=GrblDrive(config, port=url))
    try:
        await rail.start()
    except BaseException:
        await sim.stop()
        raise
    return RailBench(kind, rail, events, sim), None


async def close_rail(b: RailBench, handle: Any) -> None:
    if handle is not None:
        await close_bench(handle)
        return
    await b.rail.close()
    await b.sim.stop()


@pytest.fixture(params=["pigpio", "grbl"])
async def drive(request: pytest.FixtureRequest) -> AsyncIterator[RailBench]:
    """The rail on each drive in turn (the fixture is named for what varies)."""
    b, handle = await open_rail(request.param, config_for(request.param))
    try:
        yield b
    finally:
        await close_rail(b, handle)


@pytest.fixture
async def grbl() -> AsyncIterator[RailBench]:
    """The rail on the grbl drive alone (grbl-only cases)."""
    b, handle = await open_rail("grbl", config_for("grbl"))
    try:
        yield b
    finally:
        await close_rail(b, handle)
