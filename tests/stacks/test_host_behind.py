"""A host that freezes while a stack's move streams its steps (simulated: forced with the
pigpio drive's send hook). The drive gives the position up rather than claim steps the
motor may have lost; the stack keeps its frames, is `interrupted`, and resumes only once
the rail is homed again."""

from __future__ import annotations

import time
from pathlib import Path

from raild.drives.pigpio.drive import PigpioDrive
from raild.stacks.errors import StackError
from tests.stacks.rigs import rig_stack
from tests.support.rig import home_rail


async def test_a_host_that_fell_behind_interrupts_the_stack_until_homed(tmp_path: Path) -> None:
    async with rig_stack(tmp_path) as rs:
        drive = rs.rail.drive
        assert isinstance(drive, PigpioDrive)
        stack = rs.stacks.create({"start_um": 2500, "end_um": 12_500, "frames": 5})
        await rs.wait_frames(stack.id, 1)
        await rs.wait_rail("moving")  # 2.5 mm between frames: the freeze comes mid-move
        frozen = {"left": 1}
        sent_at_freeze = drive.segments_sent

        def freeze() -> None:
            if drive.segments_sent > sent_at_freeze + 2 and frozen["left"]:
                frozen["left"] -= 1
                time.sleep(0.2)  # longer than the queue holds: the segment goes out after it ran dry

        drive.checked_send_hook = freeze
        try:
            state = await rs.wait_state(stack.id, "interrupted", "failed", "paused", "completed", timeout_s=30)
        finally:
            drive.checked_send_hook = None
        if frozen["left"]:  # the move ended before the hook got its chance: nothing to judge
            raise AssertionError("the freeze was never injected")
        if drive.late_stalls == 0:  # the late segment was slow enough to start from rest: exact
            assert rs.rig.rail.lost_steps == 0
            return
        assert state == "interrupted", stack.error
        assert stack.error is not None and "home the rail, then resume" in stack.error["message"]
        assert not rs.rail.position_known
        kept = stack.frame
        manifest = await rs.manifest(stack.id)
        assert [f["index"] for f in manifest["frames"]] == list(range(1, kept + 1))
        try:
            rs.stacks.resume(stack.id)
        except StackError as exc:  # refused until the rail knows where it is
            assert "homed" in str(exc)
        else:
            raise AssertionError("resumed with the position unknown")
        await home_rail(rs.rail)
        rs.stacks.resume(stack.id)
        assert (
            await rs.wait_state(stack.id, "completed", "failed", "paused", "interrupted", timeout_s=60) == "completed"
        )
        assert stack.frame == 5
