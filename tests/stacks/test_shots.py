"""Several shots per position with a flash-recycle interval, the wired-shutter backend's
unconfirmed frames, and a rail moved by someone else during the settle time."""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path
from typing import Any

import pytest

from raild.camera.wired import WiredCamera
from raild.config import Config
from raild.events import EventBus
from raild.sim.rig import SimRig
from tests.stacks.rigs import rig_config, rig_stack

pytestmark = pytest.mark.timeout(120)


async def test_shots_per_position_keep_the_interval_and_the_position(tmp_path: Path) -> None:
    async with rig_stack(tmp_path) as rs:
        stack = rs.stacks.create(
            {"start_um": 2500, "end_um": 2700, "frames": 3, "shots_per_position": 2, "shot_interval_ms": 250}
        )
        assert await rs.wait_state(stack.id, "completed", "failed", "paused") == "completed"
        captures = rs.captures()
        assert [c.label for c in captures] == [f"frame_{i:05d}.jpg" for i in range(1, 7)]
        um_per_step = rs.config.rail.um_per_step
        for pair, planned_um in zip(
            zip(captures[::2], captures[1::2], strict=True), stack.plan.positions_um, strict=True
        ):
            assert all(abs(c.position_um - planned_um) <= um_per_step for c in pair)
        # Exposures are at least the interval apart (the capture itself takes 30 ms here,
        # so starts 250 ms apart mean the interval was kept after each one ended).
        gaps = [b.time_s - a.time_s for a, b in itertools.pairwise(captures)]
        assert min(gaps) >= 0.25, gaps
        frames = rs.stacks.frames(stack.id)
        assert [f["index"] for f in frames] == list(range(1, 7))
        manifest = await rs.manifest(stack.id)
        assert [(f["position_index"], f["shot"]) for f in manifest["frames"]] == [
            (0, 1),
            (0, 2),
            (1, 1),
            (1, 2),
            (2, 1),
            (2, 2),
        ]


def wired_camera(cfg: Config, hw: Any, rig: SimRig, events: EventBus) -> WiredCamera:
    return WiredCamera(cfg, hw.factory, events=events)


async def test_wired_shutter_frames_are_recorded_unconfirmed(tmp_path: Path) -> None:
    cfg = rig_config(camera={"backend": "gpio", "shutter_pulse_ms": 20, "exposure_ms": 30})
    async with rig_stack(tmp_path, cfg, make_camera=wired_camera) as rs:
        stack = rs.stacks.create({"start_um": 2500, "end_um": 2900, "frames": 5})
        assert await rs.wait_state(stack.id, "completed", "failed", "paused") == "completed"
        frames = rs.stacks.frames(stack.id)
        assert [(f["index"], f["confirmed"], f["name"]) for f in frames] == [(i, False, None) for i in range(1, 6)]
        # The rig saw each shutter pulse at its planned position.
        presses = [t for t in rs.rig.rail.triggers if t.kind == "shutter" and t.active]
        assert len(presses) == 5
        for press, planned_um in zip(presses, stack.plan.positions_um, strict=True):
            assert abs(press.position_um - planned_um) <= rs.config.rail.um_per_step
        assert not list(rs.stacks.stack_dir(stack.id).glob("frame_*"))
        with pytest.raises(Exception, match="not downloaded"):
            rs.stacks.frame_path(stack.id, 1)


async def test_a_rail_moved_during_the_settle_goes_back_before_the_shot(tmp_path: Path) -> None:
    cfg = rig_config(camera={"settle_ms": 600})
    async with rig_stack(tmp_path, cfg) as rs:
        stack = rs.stacks.create({"start_um": 2500, "end_um": 2700, "frames": 3})
        await rs.wait_state(stack.id, "running")
        await rs.wait_rail("moving")
        await rs.wait_rail("idle")  # at position 1, settling
        await asyncio.sleep(0.05)
        await rs.rail.move_to_um(2600.0)  # a jog in the middle of the settle
        assert await rs.wait_state(stack.id, "completed", "failed", "paused") == "completed"
        captures = rs.captures()
        assert captures[0].label == "frame_00001.jpg"
        assert abs(captures[0].position_um - 2500.0) <= rs.config.rail.um_per_step
