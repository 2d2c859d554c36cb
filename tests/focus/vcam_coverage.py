"""Coverage of a stack shot on libgphoto2's virtual camera, whose frames are all the same image.

Run in a fresh interpreter by test_vcam_coverage.py (`VCAMERADIR` must be set before
`import gphoto2`). The whole chain is real: virtual rig, rail, gphoto2 backend, stack
manager, and the focus service listening on the same event bus.
Usage: python vcam_coverage.py WORKDIR
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from raild.camera.gphoto2_camera import Gphoto2Camera
from raild.events import EventBus
from raild.focus.service import FocusService, LandedFrame, StackFrames
from raild.hw import Hardware
from raild.motion.rail import Rail
from raild.sim.rig import SimRig
from raild.stacks import StackManager
from tests.stacks.vcam_stack import config, wait_state
from tests.support.rig import home_rail


async def run(work: Path) -> None:
    cfg = config()
    events = EventBus()
    events.bind_loop(asyncio.get_running_loop())
    rig = SimRig(cfg)
    await rig.start("127.0.0.1", 0)
    hw = await Hardware.connect(cfg, rig.host, rig.port)
    rail = Rail(cfg, hw, events)
    await rail.start()
    await home_rail(rail, tries=2)  # a homing that failed on timing under load: once more
    camera = Gphoto2Camera(cfg, events=events)
    await camera.open()
    focus = FocusService(work / "state", events)
    await focus.start()
    stacks = StackManager(cfg, work / "state", rail, camera, events, retry_backoff_ms=10)
    await stacks.start()
    try:
        stack = stacks.create({"start_um": 2500, "end_um": 3200, "frames": 8})
        assert await wait_state(stacks, stack.id, "completed", "paused", "failed") == "completed", stack.error
        folder = stacks.stack_dir(stack.id)
        frames = [LandedFrame(f["index"], f["position_um"], folder / f["name"]) for f in stacks.frames(stack.id)]
        view = StackFrames(stack.id, folder, False, frames)
        doc = (await focus.coverage(view, wait_s=60)).to_dict()
        preview = await focus.preview(view, wait_s=60)
        print(json.dumps({"coverage": doc, "preview_bytes": len(preview), "frames": len(frames)}))
    finally:
        await stacks.stop()
        await focus.stop()
        await camera.close()
        await rail.close()
        await hw.close()
        await rig.stop()


if __name__ == "__main__":
    asyncio.run(run(Path(sys.argv[1])))
