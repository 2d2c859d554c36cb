"""The whole stack below the API, for real: virtual rig (pigpiod emulator), the real
pigpio client and `Rail`, the simulated optical camera looking from the carriage's
true position, and a `StackManager` on a temporary state dir."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from raild.camera.sim import SimCamera
from raild.config import Config
from raild.events import EventBus, Subscription
from raild.sim.rig import SimRig
from raild.stacks import StackManager
from tests.support.rig import home_rail

# A rig that homes in a moment: the carriage starts 1.2 mm from the min switch and the
# subject sits just beyond it. Camera times are short so a 20-frame stack takes seconds.
FAST_SIM: dict[str, Any] = {
    "start_position_um": 1200.0,
    "subject_near_um": 3000.0,
    "subject_depth_um": 600.0,
    "capture_latency_ms": 30,
    "download_ms": 40,
    "preview_ms": 5,
}


def rig_config(**sections: dict[str, Any]) -> Config:
    merged: dict[str, dict[str, Any]] = {
        "sim": dict(FAST_SIM),
        "camera": {"settle_ms": 20, "retries": 2},
        "homing": {"backoff_um": 200.0, "seek_speed_um_s": 3000.0, "approach_speed_um_s": 600.0},
    }
    for name, values in sections.items():
        merged.setdefault(name, {}).update(values)
    return Config().with_overrides(**merged)


@dataclass
class RigStack:
    config: Config
    rig: SimRig
    hw: Any
    rail: Any
    camera: Any  # the simulated camera unless a test chose another backend
    events: EventBus
    stacks: StackManager
    state_dir: Path
    watch: Subscription

    def captures(self) -> list[Any]:
        return [t for t in self.rig.rail.triggers if t.kind == "capture"]

    async def manifest(self, stack_id: str) -> dict[str, Any]:
        """As on disk, once the writes of state changes made so far have landed."""
        await self.stacks.journal.drain()
        return json.loads((self.stacks.stack_dir(stack_id) / "manifest.json").read_text())

    async def wait_state(self, stack_id: str, *states: str, timeout_s: float = 30.0) -> str:
        deadline = time.monotonic() + timeout_s
        while (state := self.stacks.get(stack_id).state) not in states:
            if time.monotonic() > deadline:
                raise AssertionError(f"stack {stack_id} still {state}, wanted {states}")
            await asyncio.sleep(0.01)
        return state

    async def wait_frames(self, stack_id: str, count: int, timeout_s: float = 30.0) -> None:
        deadline = time.monotonic() + timeout_s
        while self.stacks.get(stack_id).frame < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"stack {stack_id} has {self.stacks.get(stack_id).frame} frames")
            await asyncio.sleep(0.005)

    async def wait_rail(self, *states: str, timeout_s: float = 30.0) -> None:
        deadline = time.monotonic() + timeout_s
        while self.rail.state not in states:
            if time.monotonic() > deadline:
                raise AssertionError(f"rail still {self.rail.state}, wanted {states}")
            await asyncio.sleep(0.002)


@asynccontextmanager
async def rig_stack(
    state_dir: Path,
    config: Config | None = None,
    on_exposure: Callable[[SimRig], Callable[[str], object]] | None = None,
    home: bool = True,
    make_camera: Callable[[Config, Any, SimRig, EventBus], Any] | None = None,
) -> AsyncIterator[RigStack]:
    from raild.hw import Hardware
    from raild.motion.rail import Rail

    cfg = config or rig_config()
    events = EventBus()
    events.bind_loop(asyncio.get_running_loop())
    watch = events.subscribe(100_000)
    rig = SimRig(cfg)
    await rig.start("127.0.0.1", 0)
    hw = rail = camera = None
    try:
        hw = await Hardware.connect(cfg, rig.host, rig.port)
        rail = Rail(cfg, hw, events)
        await rail.start()
        if home:
            await home_rail(rail)
        camera = (
            make_camera(cfg, hw, rig, events)
            if make_camera
            else SimCamera(
                cfg,
                position_um=lambda: rig.rail.true_position_um,
                on_exposure=on_exposure(rig) if on_exposure else rig.record_capture,
                events=events,
            )
        )
        await camera.open()
        stacks = StackManager(cfg, state_dir, rail, camera, events, retry_backoff_ms=20)
        await stacks.start()
        try:
            yield RigStack(cfg, rig, hw, rail, camera, events, stacks, state_dir, watch)
        finally:
            await stacks.stop()
    finally:
        if camera is not None:
            await camera.close()
        if rail is not None:
            close = getattr(rail, "close", None)
            if close is not None:
                await close()
        if hw is not None:
            await hw.close()
        await rig.stop()
