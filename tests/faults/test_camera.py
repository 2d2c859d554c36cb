"""Camera faults during a stack, through raild's real gphoto2 backend on libgphoto2's
virtual camera inside `raild serve --sim` (errors injected at the libgphoto2 boundary)."""

from __future__ import annotations

import itertools

import pytest

from tests.faults.camera_faults import originals, vcam_daemon
from tests.faults.checks import check_stack_folder, read_manifest
from tests.faults.harness import wait_for

pytestmark = [pytest.mark.timeout(150)]
GP_ERROR_CAMERA_BUSY = -110


@pytest.mark.parametrize("code", [-52, -7], ids=["usb-not-found-52", "io-error-7"])
def test_camera_unplugged_mid_stack_pauses_then_resume_completes(tmp_path, code: int) -> None:
    """Injected: after 4 of 12 frames the camera is unplugged (every call fails with
    `code`, autodetection finds nothing), then plugged back in.
    Must hold: the stack pauses (not fails) with a reason naming the camera and how to go
    on; status shows the camera disconnected; the daemon keeps answering; after replugging,
    resume completes with frames 1..12 each exactly once, every file one of the camera's
    images, manifest and files in agreement."""
    with vcam_daemon(tmp_path) as (daemon, faults):
        daemon.home()
        stack_id = daemon.create_stack({"start_um": 2500, "end_um": 3600, "frames": 12})
        daemon.wait_frames(stack_id, 4)
        faults.set(unplugged=True, unplug_code=code)
        paused = daemon.wait_stack(stack_id, "paused", "failed", "completed", timeout_s=60)
        assert paused["state"] == "paused", paused
        message = paused["error"]["message"]
        assert "camera" in message and "resume" in message, paused["error"]
        assert daemon.status()["camera"]["connected"] is False
        kept = check_stack_folder(daemon.stack_dir(stack_id), read_manifest(daemon.stack_dir(stack_id), "paused"))
        assert 4 <= len(kept) < 12

        faults.set(unplugged=False)  # plugged back in
        assert daemon.api.post(f"/stacks/{stack_id}/resume").status_code == 200
        done = daemon.wait_stack(stack_id, "completed", "failed", "paused", timeout_s=60)
        assert done["state"] == "completed", done
        assert daemon.status()["camera"]["connected"] is True
        folder = daemon.stack_dir(stack_id)
        manifest = read_manifest(folder, "completed")
        assert check_stack_folder(folder, manifest) == list(range(1, 13))
        assert all(f["confirmed"] for f in manifest["frames"])
        images = originals(daemon)
        for f in manifest["frames"]:
            assert (folder / f["file"]).read_bytes() in images
        injected = [c for c in faults.calls() if c["code"] == code]
        assert injected, "the unplug was never seen by the backend"


def test_busy_storm_is_retried_with_backoff_and_the_stack_completes(tmp_path) -> None:
    """Injected: a storm of -110 (camera busy) answers to capture: 0 to 4 in a row before
    most frames, and once 6 in a row (more than the backend's 5 retries).
    Must hold: every run is retried with growing waits, no run of busy answers is retried
    without bound (at most 6 calls before the stack's own back-off), the stack completes
    with all 12 frames, none lost or repeated."""
    runs = [2, 0, 3, 1, 0, 4, 6, 1, 2, 0, 0, 1]
    codes: list[int] = []
    for k in runs:
        codes += [GP_ERROR_CAMERA_BUSY] * k + [0]
    with vcam_daemon(tmp_path) as (daemon, faults):
        daemon.home()
        faults.set(codes={"capture": codes})
        stack_id = daemon.create_stack({"start_um": 2500, "end_um": 3600, "frames": 12})
        done = daemon.wait_stack(stack_id, "completed", "failed", "paused", timeout_s=90)
        assert done["state"] == "completed", done
        folder = daemon.stack_dir(stack_id)
        assert check_stack_folder(folder, read_manifest(folder, "completed")) == list(range(1, 13))
        captures = [c for c in faults.calls() if c["call"] == "capture"]
        assert sum(1 for c in captures if c["code"] == GP_ERROR_CAMERA_BUSY) == sum(runs)
        # Runs of busy answers, with the time from each call to the next one.
        run_gaps: list[list[float]] = []
        current: list[float] = []
        for prev, nxt in itertools.pairwise(captures):
            if prev["code"] == GP_ERROR_CAMERA_BUSY:
                current.append(nxt["t"] - prev["t"])
            elif current:
                run_gaps.append(current)
                current = []
        if current:
            run_gaps.append(current)
        assert max(len(g) for g in run_gaps) <= 6
        for gaps in run_gaps:
            backoff = gaps[:5]  # the backend's own retries; a 6th busy hands over to the stack
            assert backoff[0] >= 0.09, gaps
            assert all(b > a for a, b in itertools.pairwise(backoff)), f"no back-off: {gaps}"
        wait_for(lambda: daemon.status()["state"] == "idle", 20, "the rail to rest")
