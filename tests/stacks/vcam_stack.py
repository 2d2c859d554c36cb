"""A stack through the gphoto2 backend on libgphoto2's virtual camera, on the virtual rig.

Run in a fresh interpreter by test_vcam_stack.py: `VCAMERADIR` must be set before
`import gphoto2` for the wheel to pick its virtual USB driver. Faults are injected at
the libgphoto2 boundary (the real virtual-camera handle raising chosen GPhoto2Errors),
so every layer above it, the backend included, is the real code.
Usage: python vcam_stack.py SCENARIO WORKDIR
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

import gphoto2 as gp

from raild.camera.gphoto2_camera import Gphoto2Camera
from raild.camera.gphoto2_session import Gphoto2Session
from raild.config import Config
from raild.events import EventBus
from raild.hw import Hardware
from raild.motion.rail import Rail
from raild.sim.rig import SimRig
from raild.stacks import StackManager
from tests.support.rig import home_rail

GP_ERROR_IO = -7  # "gone": the backend drops the handle and reconnects on the next call


class CallFaults:
    """Fail the n-th call (counted over every handle the backend opens) of a method."""

    def __init__(self, failing: dict[str, set[int]]) -> None:
        self.failing = failing
        self.calls: dict[str, int] = {}

    def handle(self) -> Any:
        faults = self
        real = gp.Camera()

        class Handle:
            def __getattr__(self, name: str) -> Any:
                method = getattr(real, name)

                def call(*args: Any) -> Any:
                    n = faults.calls[name] = faults.calls.get(name, 0) + 1
                    if n in faults.failing.get(name, set()):
                        raise gp.GPhoto2Error(GP_ERROR_IO)
                    return method(*args)

                return call

        return Handle()


def config() -> Config:
    return Config().with_overrides(
        camera={"backend": "gphoto2", "settle_ms": 10, "retries": 2},
        sim={"start_position_um": 2000.0},
        homing={"backoff_um": 300.0},
    )


async def wait_state(stacks: StackManager, stack_id: str, *states: str) -> str:
    for _ in range(6000):
        state = stacks.get(stack_id).state
        if state in states:
            return state
        await asyncio.sleep(0.01)
    stack = stacks.get(stack_id)
    raise AssertionError(f"stack still {stack.state} at frame {stack.frame}: {stack.error}")


def check_files(folder: Path, manifest: dict[str, Any]) -> None:
    """One whole file per frame, each one of the images the virtual camera serves."""
    names = sorted(p.name for p in folder.glob("frame_*"))
    assert names == [f["file"] for f in manifest["frames"]], names
    originals = {p.read_bytes() for p in Path(os.environ["VCAMERADIR"]).glob("*.jpg")}
    for f in manifest["frames"]:
        assert (folder / f["file"]).read_bytes() in originals, f
    leftovers = list(folder.glob(".*"))
    assert not leftovers, leftovers


async def run(work: Path) -> None:
    cfg = config()
    events = EventBus()
    events.bind_loop(asyncio.get_running_loop())
    # Captures 3, 4, 5 (frame 3 and its two retries) fail: the stack must pause there.
    # Download 5 fails once (frame 5's file): that frame must be shot again.
    faults = CallFaults({"capture": {3, 4, 5}, "file_get": {5}})
    rig = SimRig(cfg)
    await rig.start("127.0.0.1", 0)
    hw = await Hardware.connect(cfg, rig.host, rig.port)
    rail = Rail(cfg, hw, events)
    await rail.start()
    await home_rail(rail, tries=2)  # a homing that failed on timing under load: once more
    camera = Gphoto2Camera(cfg, events=events, session=Gphoto2Session(cfg.camera, camera_factory=faults.handle))
    await camera.open()
    stacks = StackManager(cfg, work / "state", rail, camera, events, retry_backoff_ms=10)
    await stacks.start()
    try:
        stack = stacks.create({"start_um": 2500, "end_um": 3000, "frames": 6})
        assert await wait_state(stacks, stack.id, "paused", "completed", "failed") == "paused", stack.error
        assert stack.error is not None and "frame 3" in stack.error["message"], stack.error
        assert [f["index"] for f in stacks.frames(stack.id)] == [1, 2]
        stacks.resume(stack.id)
        assert await wait_state(stacks, stack.id, "completed", "paused", "failed") == "completed", stack.error
        folder = stacks.stack_dir(stack.id)
        await stacks.journal.drain()  # the state change's manifest write
        manifest = json.loads((folder / "manifest.json").read_text())
        assert [f["index"] for f in manifest["frames"]] == [1, 2, 3, 4, 5, 6]
        assert all(f["confirmed"] for f in manifest["frames"])
        check_files(folder, manifest)
        # Frames 1-2, three failed tries at frame 3, then frames 3-6 and frame 5 again
        # after its download was lost.
        assert faults.calls["capture"] == 2 + 3 + 4 + 1, faults.calls
        assert manifest["camera"]["backend"] == "gphoto2"
    finally:
        await stacks.stop()
        await camera.close()
        await rail.close()
        await hw.close()
        await rig.stop()
    print("scenario ok: stack_on_virtual_camera")


if __name__ == "__main__":
    asyncio.run(run(Path(sys.argv[1])))
