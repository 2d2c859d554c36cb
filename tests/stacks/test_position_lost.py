"""The rail forgets its position between two frames (here: an idle motor-off with
`idle_off_forgets_position`, during a long settle; a grbl link that drops and comes back
does the same). A stack never moves from an unknown position: it is left `interrupted`
with its frames, to resume once homed — not `failed`, and never looping in place."""

from __future__ import annotations

from pathlib import Path

from tests.stacks.rigs import rig_config, rig_stack


async def test_a_position_forgotten_between_frames_interrupts_the_stack(tmp_path: Path) -> None:
    config = rig_config(
        rail={"idle_disable_s": 0.3, "idle_off_forgets_position": True},
        camera={"settle_ms": 20},
    )
    async with rig_stack(tmp_path, config) as rs:
        # A 1.5 s settle after each move: the idle timer (0.3 s) turns the driver off first.
        stack = rs.stacks.create({"start_um": 2500, "end_um": 4500, "frames": 3, "settle_ms": 1500})
        state = await rs.wait_state(stack.id, "interrupted", "failed", "paused", "completed", timeout_s=60)
        assert state == "interrupted", stack.error
        assert stack.error is not None and "lost its position" in stack.error["message"]
        assert not rs.rail.position_known
        assert stack.frame == 0  # it never shot from an unknown position
        manifest = await rs.manifest(stack.id)
        assert manifest["state"] == "interrupted" and manifest["frames"] == []
