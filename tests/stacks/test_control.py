"""Pause, resume and cancel at frame boundaries; stop and e-stop at once; on the virtual rig."""

from __future__ import annotations

from pathlib import Path

import pytest

from raild.stacks.errors import StackConflict
from tests.stacks.rigs import RigStack, home_rail, rig_config, rig_stack

pytestmark = pytest.mark.timeout(120)


async def assert_frames_exactly(rs: RigStack, stack_id: str, indexes: list[int]) -> None:
    """The manifest and the files hold these frames, once each, with no write left over."""
    manifest = await rs.manifest(stack_id)
    assert [f["index"] for f in manifest["frames"]] == indexes
    folder = rs.stacks.stack_dir(stack_id)
    assert sorted(p.name for p in folder.glob("frame_*")) == [f"frame_{i:05d}.jpg" for i in indexes]
    assert not list(folder.glob(".*.part"))


async def test_pause_waits_for_the_frame_boundary_then_resume_finishes(tmp_path: Path) -> None:
    async with rig_stack(tmp_path) as rs:
        stack = rs.stacks.create({"start_um": 2500, "end_um": 3100, "frames": 12})
        await rs.wait_frames(stack.id, 3)
        assert rs.stacks.pause(stack.id).state in ("pausing", "paused")
        assert await rs.wait_state(stack.id, "paused") == "paused"
        done = stack.frame
        assert 3 <= done < 12
        # Nothing exposed beyond what was recorded: the pause fell between frames.
        assert len(rs.captures()) == done
        await assert_frames_exactly(rs, stack.id, list(range(1, done + 1)))
        assert (await rs.manifest(stack.id))["state"] == "paused"
        assert rs.stacks.pause(stack.id).state == "paused"  # idempotent
        assert rs.stacks.job_summary()["state"] == "paused"

        assert rs.stacks.resume(stack.id).state == "running"
        assert await rs.wait_state(stack.id, "completed", "failed") == "completed"
        assert [c.label for c in rs.captures()] == [f"frame_{i:05d}.jpg" for i in range(1, 13)]
        await assert_frames_exactly(rs, stack.id, list(range(1, 13)))


async def test_resume_before_the_pause_lands_just_keeps_going(tmp_path: Path) -> None:
    cfg = rig_config(camera={"settle_ms": 300})
    async with rig_stack(tmp_path, cfg) as rs:
        stack = rs.stacks.create({"start_um": 2500, "end_um": 2700, "frames": 3})
        await rs.wait_state(stack.id, "running")
        rs.stacks.pause(stack.id)
        assert rs.stacks.resume(stack.id).state == "running"
        assert await rs.wait_state(stack.id, "completed", "paused") == "completed"


async def test_cancel_at_a_boundary_keeps_the_frames(tmp_path: Path) -> None:
    async with rig_stack(tmp_path) as rs:
        stack = rs.stacks.create({"start_um": 2500, "end_um": 3100, "frames": 12})
        await rs.wait_frames(stack.id, 2)
        assert rs.stacks.cancel(stack.id).state in ("cancelling", "cancelled")
        assert await rs.wait_state(stack.id, "cancelled") == "cancelled"
        done = stack.frame
        assert len(rs.captures()) == done
        await assert_frames_exactly(rs, stack.id, list(range(1, done + 1)))
        with pytest.raises(StackConflict):
            rs.stacks.resume(stack.id)
        # One at a time, and nothing blocks a new one once it is over.
        again = rs.stacks.create({"start_um": 2500, "end_um": 2600, "frames": 2})
        assert await rs.wait_state(again.id, "completed") == "completed"


async def test_stop_mid_move_cancels_the_stack_at_once(tmp_path: Path) -> None:
    """`POST motion/stop`: cancel the stack, then stop the rail, which interrupts the move."""
    async with rig_stack(tmp_path) as rs:
        stack = rs.stacks.create({"start_um": 2500, "end_um": 12_500, "frames": 5, "return_to_start": True})
        await rs.wait_frames(stack.id, 1)
        await rs.wait_rail("moving")  # 2.5 mm between frames: a long move to catch
        assert rs.stacks.cancel_active() is stack
        await rs.rail.stop()
        assert await rs.wait_state(stack.id, "cancelled", "failed", timeout_s=5) == "cancelled"
        position = rs.rail.position_steps
        # It stopped on the way (a stop landing before the first step leaves it where it
        # was), went no further, and did not drive back to the start afterwards.
        p = stack.plan.positions_steps
        assert p[0] < position <= p[stack.frame], (position, p, stack.frame)
        assert rs.rail.state == "idle"
        await assert_frames_exactly(rs, stack.id, list(range(1, stack.frame + 1)))


async def test_rail_stop_alone_pauses_the_stack_with_the_reason(tmp_path: Path) -> None:
    """A stop that did not come through the manager (a button wired to the rail) still
    only pauses: the interrupted move is not a failure."""
    async with rig_stack(tmp_path) as rs:
        stack = rs.stacks.create({"start_um": 2500, "end_um": 12_500, "frames": 5})
        await rs.wait_frames(stack.id, 1)
        await rs.wait_rail("moving")
        await rs.rail.stop()
        assert await rs.wait_state(stack.id, "paused", "failed", "cancelled", timeout_s=5) == "paused"
        assert stack.error is not None and stack.error["code"] == "stopped"
        assert (await rs.manifest(stack.id))["error"] == stack.error
        await assert_frames_exactly(rs, stack.id, list(range(1, stack.frame + 1)))


async def test_estop_fails_the_stack_and_resume_after_homing_completes_it(tmp_path: Path) -> None:
    async with rig_stack(tmp_path) as rs:
        stack = rs.stacks.create({"start_um": 2500, "end_um": 12_500, "frames": 5})
        await rs.wait_frames(stack.id, 2)
        await rs.wait_rail("moving")
        rs.rail.estop()
        assert await rs.wait_state(stack.id, "failed", timeout_s=5) == "failed"
        assert stack.error is not None
        kept = stack.frame
        assert kept >= 2
        await assert_frames_exactly(rs, stack.id, list(range(1, kept + 1)))
        with pytest.raises(StackConflict):
            rs.stacks.resume(stack.id)  # the rail is latched in e-stop
        await rs.rail.reset()
        if not rs.rail.homed:
            with pytest.raises(StackConflict, match="home"):
                rs.stacks.resume(stack.id)
            await home_rail(rs.rail)
        rs.stacks.resume(stack.id)
        assert await rs.wait_state(stack.id, "completed", "failed", "paused") == "completed"
        assert [c.label for c in rs.captures()] == [f"frame_{i:05d}.jpg" for i in range(1, 6)]
        await assert_frames_exactly(rs, stack.id, [1, 2, 3, 4, 5])


async def test_one_stack_at_a_time_and_delete_rules(tmp_path: Path) -> None:
    async with rig_stack(tmp_path) as rs:
        first = rs.stacks.create({"start_um": 2500, "end_um": 3000, "frames": 6})
        with pytest.raises(StackConflict, match="one stack"):
            rs.stacks.create({"start_um": 2500, "end_um": 3000, "frames": 6})
        with pytest.raises(StackConflict):
            rs.stacks.delete(first.id)
        assert await rs.wait_state(first.id, "completed") == "completed"
        folder = rs.stacks.stack_dir(first.id)
        rs.stacks.delete(first.id)
        assert not folder.exists()
        assert rs.stacks.list() == [] and rs.stacks.job_summary() is None


async def test_unhomed_rail_refuses_a_stack(tmp_path: Path) -> None:
    async with rig_stack(tmp_path, home=False) as rs:
        with pytest.raises(StackConflict, match="home"):
            rs.stacks.create({"start_um": 2500, "end_um": 3000, "frames": 6})
        assert rs.stacks.list() == []
