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
    lost_accepted: int = 0  # steps lost while the rail said its position was unknown

    @property
    def true_steps(self) -> int:
        return self.rig.rail.true_position_steps

    def assert_in_sync(self) -> None:
        """Exact when known; never silently wrong. Steps may be lost only while the rail says
        its position is unknown (an e-stop that raced a send, a host that fell behind: see
        docs/internals.md); they are accepted then, and none may be lost once it is known again."""
        lost = self.rig.rail.lost_steps
        if self.rail.position_known:
            assert lost == self.lost_accepted, f"{lost - self.lost_accepted} steps lost with the position known"
            assert self.rail.position_steps == self.true_steps
        else:
            self.lost_accepted = lost


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
