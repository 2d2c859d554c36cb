"""A whole stack through each capture path libgphoto2's virtual camera supports, on the
virtual rig. Run in a fresh interpreter by test_capture_paths_vcam.py (`VCAMERADIR` must
be set before `import gphoto2`; the virtual camera allows ~26 captures a session, so
each path gets its own process and a small stack).
Usage: python vcam_stack_paths.py MODE TARGET DELETE WORKDIR
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from raild.camera.gphoto2_camera import Gphoto2Camera
from raild.config import Config
from raild.events import EventBus
from raild.hw import Hardware
from raild.motion.rail import Rail
from raild.sim.rig import SimRig
from raild.stacks import StackManager
from tests.stacks.vcam_stack import check_files, wait_state
from tests.support.rig import home_rail

FRAMES = 4


async def run(mode: str, target: str, delete: bool, work: Path) -> None:
    cfg = Config().with_overrides(
        camera={
            "backend": "gphoto2",
            "capture_mode": mode,
            "capture_target": target,
            "delete_after_download": delete,
            "settle_ms": 10,
        },
        sim={"start_position_um": 2000.0},
        homing={"backoff_um": 300.0},
    )
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
    plan = camera.session.plan
    assert plan is not None
    print("plan:", json.dumps(plan.as_dict()))
    stacks = StackManager(cfg, work / "state", rail, camera, events, retry_backoff_ms=10)
    await stacks.start()
    try:
        stack = stacks.create({"start_um": 2500, "end_um": 2800, "frames": FRAMES})
        assert await wait_state(stacks, stack.id, "completed", "paused", "failed") == "completed", stack.error
        folder = stacks.stack_dir(stack.id)
        await stacks.journal.drain()
        manifest = json.loads((folder / "manifest.json").read_text())
        assert [f["index"] for f in manifest["frames"]] == list(range(1, FRAMES + 1))
        assert all(f["confirmed"] for f in manifest["frames"]), manifest["frames"]
        check_files(folder, manifest)
        settings = await camera.get_settings()
        on_camera = await camera.worker.run(lambda: camera_files(camera))
        print("target:", settings["capturetarget"].value, "files left on camera:", len(on_camera))
        expected_target = {"ram": "Internal RAM", "card": "Memory card"}[plan.target or "ram"]
        assert settings["capturetarget"].value == expected_target, settings["capturetarget"]
        assert len(on_camera) == (0 if delete else FRAMES), on_camera
        if plan.mode == "trigger":
            assert camera.session.files_per_shot == 1  # learnt: later shots end at their file
    finally:
        await stacks.stop()
        await camera.close()
        await rail.close()
        await hw.close()
        await rig.stop()
    print(f"scenario ok: {plan.mode}/{plan.target}/{'delete' if delete else 'keep'}")


def camera_files(camera: Gphoto2Camera) -> list[str]:
    """Frames the stack left on the virtual camera: its captures go to DCIM/1xxGPHOT folders."""
    dcim = "/store_00010001/DCIM"

    def listing(c: Any) -> list[str]:
        found: list[str] = []
        folders = c.folder_list_folders(dcim)
        for i in range(folders.count()):
            folder = f"{dcim}/{folders.get_name(i)}"
            files = c.folder_list_files(folder)
            found += [f"{folder}/{files.get_name(j)}" for j in range(files.count())]
        return found

    return camera.session.call("list", listing)


if __name__ == "__main__":
    asyncio.run(run(sys.argv[1], sys.argv[2], sys.argv[3] == "delete", Path(sys.argv[4])))
