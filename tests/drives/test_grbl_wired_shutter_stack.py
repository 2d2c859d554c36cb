"""A stack on `Daemon(sim=True)` with the grbl drive and a wired shutter on grbl's coolant
output (`camera.backend = "gpio"`, `shutter_output = "grbl_coolant"`): the grbl emulator
sees one press per frame, each at the frame's position on the simulated rail."""

from __future__ import annotations

import asyncio
from pathlib import Path

from raild.config import Config
from raild.daemon import Daemon

FRAMES = 6


def _config() -> Config:
    return Config().with_overrides(
        drive={"backend": "grbl"},
        camera={
            "backend": "gpio",
            "shutter_output": "grbl_coolant",
            "settle_ms": 0,
            "shutter_pulse_ms": 40,
            "exposure_ms": 10,
        },
        pins={"shutter": 0},
        homing={"approach_speed_um_s": 1000.0},
        sim={"start_position_um": 1500.0, "time_scale": 2.0},
    )


async def test_a_stack_fires_once_per_frame_through_grbls_coolant_pin(tmp_path: Path) -> None:
    daemon = Daemon(_config(), tmp_path / "state", "token-abcdefghijklmnop", sim=True)
    await daemon.start()
    try:
        assert daemon.rail is not None and daemon.camera is not None and daemon.stacks is not None
        assert daemon.camera.status() == {"backend": "gpio", "connected": True, "model": "wired shutter"}
        await daemon.rail.home()
        with daemon.events.subscribe(maxsize=10_000) as sub:
            stack = daemon.create_stack({"start_um": 900, "end_um": 1300, "frames": FRAMES})
            async with asyncio.timeout(120):
                while True:
                    event = await sub.get()
                    if event is None or event.kind != "job:state" or event.data.get("id") != stack.id:
                        continue
                    if event.data["state"] in ("completed", "failed", "paused"):
                        break
        done = daemon.stacks.get(stack.id)
        assert done.state == "completed", done.error
        frames = sorted(done.frames.values(), key=lambda f: f.index)
        assert len(frames) == FRAMES and not any(f.confirmed for f in frames)  # a wire cannot confirm
        sim = daemon.sim
        edges = [t for t in sim.rail.triggers if t.label == "grbl coolant"]
        presses = [t for t in edges if t.active]
        assert len(presses) == FRAMES and len(edges) == 2 * FRAMES  # each press released
        # Each press at the frame's position, on the virtual rail's own (true) step count.
        assert [p.position_steps for p in presses] == [f.position_steps for f in frames]
        widths_us = [off.emu_us - on.emu_us for on, off in zip(edges[::2], edges[1::2], strict=True)]
        # Simulated: grbl's G4 dwell in emulated µs. The three lines go out in one write; if
        # the host's socket splits them, grbl (and its emulator) starts the dwell late, so a
        # press can be longer than the dwell but never shorter.
        assert all(w >= 40_000 for w in widths_us), widths_us
        assert sim.rail.lost_steps == 0
    finally:
        await daemon.stop()
