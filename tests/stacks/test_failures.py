"""Camera failures (retries, then paused; resume completes without duplicates) and a disk
that fills up (failed, clear error, no partial file), on the virtual rig."""

from __future__ import annotations

import asyncio
import io
import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PIL import Image

from raild.camera.errors import CaptureFailed
from raild.sim.rig import SimRig
from tests.stacks.rigs import rig_config, rig_stack

pytestmark = pytest.mark.timeout(120)


class ShutterFault:
    """Fault injection at the simulated camera's exposure hook: the real `SimCamera`
    raises what its caller raises there, before anything is exposed or recorded."""

    def __init__(self, frame_name: str, failures: int) -> None:
        self.frame_name = frame_name
        self.failures_left = failures
        self.attempts = 0

    def hook(self, rig: SimRig) -> Callable[[str], object]:
        def on_exposure(label: str) -> object:
            if label == self.frame_name:
                self.attempts += 1
                if self.failures_left > 0:
                    self.failures_left -= 1
                    raise CaptureFailed("injected: the shutter did not fire")
            return rig.record_capture(label)

        return on_exposure


async def test_a_passing_camera_hiccup_is_retried_and_the_stack_completes(tmp_path: Path) -> None:
    fault = ShutterFault("frame_00004.jpg", failures=2)  # retries = 2: the third try works
    async with rig_stack(tmp_path, on_exposure=fault.hook) as rs:
        stack = rs.stacks.create({"start_um": 2500, "end_um": 2900, "frames": 6})
        assert await rs.wait_state(stack.id, "completed", "paused", "failed") == "completed"
        assert fault.attempts == 3
        assert [c.label for c in rs.captures()] == [f"frame_{i:05d}.jpg" for i in range(1, 7)]


async def test_camera_failure_pauses_and_resume_completes_without_duplicates(tmp_path: Path) -> None:
    fault = ShutterFault("frame_00005.jpg", failures=10)
    async with rig_stack(tmp_path, on_exposure=fault.hook) as rs:
        stack = rs.stacks.create({"start_um": 2500, "end_um": 3400, "frames": 10})
        assert await rs.wait_state(stack.id, "paused", "completed", "failed") == "paused"
        assert fault.attempts == 3  # the first try and camera.retries = 2 more
        assert stack.error is not None and "frame 5" in stack.error["message"]
        assert "resume" in stack.error["message"]
        assert (await rs.manifest(stack.id))["state"] == "paused"
        assert [f["index"] for f in (await rs.manifest(stack.id))["frames"]] == [1, 2, 3, 4]

        fault.failures_left = 0  # the user fixes the camera
        rs.stacks.resume(stack.id)
        assert stack.error is None
        assert await rs.wait_state(stack.id, "completed", "paused", "failed") == "completed"
        labels = [c.label for c in rs.captures()]
        assert labels == [f"frame_{i:05d}.jpg" for i in range(1, 11)]  # each exposed once
        manifest = await rs.manifest(stack.id)
        assert [f["index"] for f in manifest["frames"]] == list(range(1, 11))
        folder = rs.stacks.stack_dir(stack.id)
        assert sorted(p.name for p in folder.glob("frame_*")) == labels
        for capture, f in zip(rs.captures(), manifest["frames"], strict=True):
            assert abs(capture.position_um - f["position_um"]) <= rs.config.rail.um_per_step


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real file system that fills up: a tmpfs of 320 KiB (the tests run as root)."""
    mnt = tmp_path / "disk"
    mnt.mkdir()
    if (
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=320k", "tmpfs", str(mnt)], capture_output=True).returncode
        != 0
    ):
        pytest.skip("cannot mount a tmpfs here (needs root)")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


async def test_a_full_disk_fails_the_stack_cleanly_and_resume_finishes(small_disk: Path) -> None:
    cfg = rig_config(sim={"image_width": 640, "image_height": 480})
    async with rig_stack(small_disk, cfg) as rs:
        stack = rs.stacks.create({"start_um": 2500, "end_um": 3400, "frames": 30})
        assert await rs.wait_state(stack.id, "failed", "completed", "paused") == "failed"
        assert stack.error is not None and stack.error["code"] == "storage"
        assert "disk is full" in stack.error["message"]
        folder = rs.stacks.stack_dir(stack.id)
        assert not list(folder.glob(".*")), "a temp file of an unfinished write was left"
        kept = stack.frame
        assert 0 < kept < 30
        # Every frame file on disk is whole; those recorded are exactly what the list says.
        for path in folder.glob("frame_*"):
            Image.open(io.BytesIO(path.read_bytes())).verify()
        recorded = rs.stacks.frames(stack.id)
        assert [f["index"] for f in recorded] == list(range(1, kept + 1))
        for f in recorded:
            assert (folder / f["name"]).stat().st_size == f["size"]

        # Room again: resuming shoots only what is missing, one file per index.
        await asyncio.to_thread(subprocess.run, ["mount", "-o", "remount,size=16m", str(small_disk)], check=True)
        rs.stacks.resume(stack.id)
        assert await rs.wait_state(stack.id, "completed", "failed", "paused") == "completed"
        manifest = await rs.manifest(stack.id)
        assert [f["index"] for f in manifest["frames"]] == list(range(1, 31))
        assert sorted(p.name for p in folder.glob("frame_*")) == [f["file"] for f in manifest["frames"]]
        labels = [c.label for c in rs.captures()]
        assert labels[:kept] == [f"frame_{i:05d}.jpg" for i in range(1, kept + 1)]
        assert sorted(set(labels)) == [f"frame_{i:05d}.jpg" for i in range(1, 31)]
        assert os.statvfs(small_disk).f_bfree > 0
