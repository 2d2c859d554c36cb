"""The virtual rig with a Rail on it, for the motion tests (imported by conftest and tests)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from raild.config import Config
from raild.events import EventBus
from raild.hw import Hardware
from raild.motion.rail import Rail
from raild.sim.rig import SimRig

TIME_SCALE = 2.0  # the emulator runs in this process: faster clocks starve the pigpio callback thread


def make_config(**sections: dict[str, Any]) -> Config:
    base: dict[str, dict[str, Any]] = {
        "sim": {"time_scale": TIME_SCALE, "start_position_um": 2_000.0},
        "rail": {"idle_disable_s": 0.0},
    }
    for name, values in sections.items():
        base.setdefault(name, {}).update(values)
    return Config().with_overrides(**base)


@dataclass
class Bench:
    rig: SimRig
    hw: Hardware
    rail: Rail
    events: EventBus

    @property
    def true_steps(self) -> int:
        return self.rig.rail.true_position_steps

    def assert_in_sync(self) -> None:
        assert self.rig.rail.lost_steps == 0
        if self.rail.position_known:
            assert self.rail.position_steps == self.true_steps


async def open_bench(config: Config) -> Bench:
    rig = SimRig(config)
    await rig.start("127.0.0.1", 0)
    events = EventBus()
    events.bind_loop(asyncio.get_running_loop())
    hw = await Hardware.connect(config, "127.0.0.1", rig.port)
    rail = Rail(config, hw, events)
    await rail.start()
    return Bench(rig, hw, rail, events)


async def close_bench(b: Bench) -> None:
    await b.rail.close()
    await b.hw.close()
    await b.rig.stop()
