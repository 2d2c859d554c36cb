"""The rail's hardware link lost mid-stack (pigpiod's connection dropped): nothing about the
stack failed, so it is `interrupted`, keeps its frames and resumes once homed. With a daemon
its reconnect says `interrupted` too; here no daemon races the runner, so the runner's own
answer is the one seen."""

from __future__ import annotations

from pathlib import Path

from tests.stacks.rigs import rig_stack


async def test_link_lost_mid_move_interrupts_the_stack(tmp_path: Path) -> None:
    async with rig_stack(tmp_path) as rs:
        stack = rs.stacks.create({"start_um": 2500, "end_um": 12_500, "frames": 5})
        await rs.wait_frames(stack.id, 1)
        await rs.wait_rail("moving")  # 2.5 mm between frames: the link goes mid-move
        rs.rig.inject_disconnect()
        state = await rs.wait_state(stack.id, "interrupted", "failed", "paused", timeout_s=10)
        assert state == "interrupted", stack.error
        assert stack.error is not None and "home the rail, then resume" in stack.error["message"]
        manifest = await rs.manifest(stack.id)
        assert manifest["state"] == "interrupted"
        assert [f["index"] for f in manifest["frames"]] == list(range(1, stack.frame + 1))
