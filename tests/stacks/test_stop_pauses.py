"""STOP never destroys work: it pauses a stack (resumable, frames contiguous); only
cancel ends one, driving back to the start when the plan says so. On the virtual rig."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.stacks.rigs import rig_stack
from tests.stacks.test_control import assert_frames_exactly

pytestmark = pytest.mark.timeout(120)


async def test_stop_mid_move_pauses_then_resume_shoots_every_frame_once(tmp_path: Path) -> None:
    async with rig_stack(tmp_path) as rs:
        stack = rs.stacks.create({"start_um": 2500, "end_um": 12_500, "frames": 5})
        await rs.wait_frames(stack.id, 1)
        await rs.wait_rail("moving")  # 2.5 mm between frames: a long move to catch
        assert await rs.stacks.stop_rail() is stack
        assert await rs.wait_state(stack.id, "paused", "failed", "cancelled", timeout_s=5) == "paused"
        assert stack.error is None  # asked for: no reason to show
        assert rs.rail.state == "idle" and rs.rail.position_known
        kept = stack.frame
        p = stack.plan.positions_steps
        # Stopped on the way to the next position, not at it.
        assert p[0] <= rs.rail.position_steps < p[kept], (rs.rail.position_steps, p, kept)
        await assert_frames_exactly(rs, stack.id, list(range(1, kept + 1)))
        assert rs.stacks.job_summary()["state"] == "paused"

        rs.stacks.resume(stack.id)
        assert await rs.wait_state(stack.id, "completed", "failed", "paused") == "completed"
        assert [c.label for c in rs.captures()] == [f"frame_{i:05d}.jpg" for i in range(1, 6)]
        await assert_frames_exactly(rs, stack.id, [1, 2, 3, 4, 5])
        # Each frame was shot at its planned position.
        assert [round(c.position_steps) for c in rs.captures()] == list(p)


async def test_stop_while_settling_pauses_at_once(tmp_path: Path) -> None:
    from tests.stacks.rigs import rig_config

    async with rig_stack(tmp_path, rig_config(camera={"settle_ms": 2000})) as rs:
        stack = rs.stacks.create({"start_um": 2500, "end_um": 2700, "frames": 3})
        await rs.wait_state(stack.id, "running")
        await rs.wait_rail("moving")
        await rs.wait_rail("idle")  # at the first position, settling for 2 s
        await rs.stacks.stop_rail()
        assert await rs.wait_state(stack.id, "paused", timeout_s=1.5) == "paused"
        assert stack.frame == 0 and rs.captures() == []


async def test_cancel_of_a_running_stack_returns_to_the_start(tmp_path: Path) -> None:
    async with rig_stack(tmp_path) as rs:
        stack = rs.stacks.create({"start_um": 2500, "end_um": 3100, "frames": 12, "return_to_start": True})
        await rs.wait_frames(stack.id, 3)
        rs.stacks.cancel(stack.id)
        assert await rs.wait_state(stack.id, "cancelled", "failed") == "cancelled"
        assert stack.error is None
        assert rs.rail.position_steps == stack.plan.positions_steps[0]
        assert stack.frame < 12


async def test_cancel_without_return_to_start_stays(tmp_path: Path) -> None:
    async with rig_stack(tmp_path) as rs:
        stack = rs.stacks.create({"start_um": 2500, "end_um": 3100, "frames": 12, "return_to_start": False})
        await rs.wait_frames(stack.id, 3)
        rs.stacks.cancel(stack.id)
        assert await rs.wait_state(stack.id, "cancelled") == "cancelled"
        assert rs.rail.position_steps != stack.plan.positions_steps[0]


async def test_cancel_of_a_stopped_stack_drives_back_to_the_start(tmp_path: Path) -> None:
    async with rig_stack(tmp_path) as rs:
        stack = rs.stacks.create({"start_um": 2500, "end_um": 12_500, "frames": 5})
        await rs.wait_frames(stack.id, 2)
        await rs.wait_rail("moving")
        await rs.stacks.stop_rail()
        assert await rs.wait_state(stack.id, "paused") == "paused"
        assert rs.stacks.cancel(stack.id).state == "cancelling"
        assert await rs.wait_state(stack.id, "cancelled", "failed") == "cancelled"
        assert stack.error is None
        assert rs.rail.position_steps == stack.plan.positions_steps[0]
        await assert_frames_exactly(rs, stack.id, list(range(1, stack.frame + 1)))


async def test_a_stop_during_the_cancel_wins_over_the_return(tmp_path: Path) -> None:
    async with rig_stack(tmp_path) as rs:
        stack = rs.stacks.create({"start_um": 2500, "end_um": 12_500, "frames": 5, "return_to_start": True})
        await rs.wait_frames(stack.id, 1)
        await rs.wait_rail("moving")
        rs.stacks.cancel(stack.id)
        await rs.stacks.stop_rail()  # cancelling: not paused, just stopped
        assert await rs.wait_state(stack.id, "cancelled", "failed", timeout_s=5) == "cancelled"
        p = stack.plan.positions_steps
        assert p[0] < rs.rail.position_steps <= p[stack.frame]
        assert rs.rail.state == "idle"
