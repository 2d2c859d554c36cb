"""The state dir filling up or turning read-only under a running daemon: a real file
system (a small tmpfs mounted for the test; the suite runs as root in CI)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.faults.checks import check_stack_folder, read_manifest
from tests.faults.harness import ROOT, Daemon, merged

pytestmark = [pytest.mark.timeout(150)]
BIG_FRAMES = {"sim": {"image_width": 320, "image_height": 240}}  # JPEGs of about 10 KB


def mount(*args: str) -> None:
    subprocess.run(["mount", *args], check=True, capture_output=True)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mnt = tmp_path / "disk"
    mnt.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=200k", "tmpfs", str(mnt)], capture_output=True, text=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def still_serving(daemon: Daemon) -> None:
    assert daemon.api.get("/health").status_code == 200
    assert daemon.api.get("/status").status_code == 200
    assert daemon.api.get("/stacks").status_code == 200
    reply = daemon.api.post("/motion/move", json={"by_um": 50.0, "wait": True})
    assert reply.status_code == 200, reply.text


def test_disk_full_mid_stack(tmp_path: Path, small_disk: Path) -> None:
    """Injected: the state dir is a 200 KiB file system that fills during a 40-frame stack.
    Must hold: the stack fails with a "disk is full" reason saying how to go on; no temp or
    partial file is left; every recorded frame is whole and listed; the daemon keeps
    serving (status, stacks, moves); a new stack is refused with a clear error, never 500;
    once there is room, resume completes with each frame exactly once."""
    daemon = Daemon(tmp_path / "d", merged(BIG_FRAMES), state_dir=small_disk / "state")
    try:
        daemon.start()
        daemon.home()
        stack_id = daemon.create_stack({"start_um": 2500, "end_um": 4450, "frames": 40})
        failed = daemon.wait_stack(stack_id, "failed", "completed", "paused")
        assert failed["state"] == "failed", failed
        assert failed["error"]["code"] == "storage" and "disk is full" in failed["error"]["message"]
        assert "resume" in failed["error"]["message"]
        folder = daemon.stack_dir(stack_id)
        kept = check_stack_folder(folder, read_manifest(folder, settle=True), interrupted=True)
        assert 0 < len(kept) < 40
        still_serving(daemon)
        another = daemon.api.post("/stacks", json={"start_um": 2500, "end_um": 2600, "frames": 3})
        assert another.status_code != 500
        if another.status_code == 201:  # accepted: it must then fail cleanly for the same reason
            other = daemon.wait_stack(another.json()["id"], "failed", "completed", "paused")
            assert other["state"] == "failed" and other["error"]["code"] == "storage", other
        else:
            assert another.status_code == 507, another.text
            assert "space" in another.json()["detail"] or "full" in another.json()["detail"]

        mount("-o", "remount,size=16m", str(small_disk))
        daemon.home()  # the courtesy move above left the rail elsewhere; homing is harmless
        assert daemon.api.post(f"/stacks/{stack_id}/resume").status_code == 200
        done = daemon.wait_stack(stack_id, "completed", "failed", "paused")
        assert done["state"] == "completed", done
        assert check_stack_folder(folder, read_manifest(folder, "completed")) == list(range(1, 41))
    finally:
        daemon.stop()


def test_state_dir_turns_read_only_mid_stack(tmp_path: Path, small_disk: Path) -> None:
    """Injected: the state dir's file system is remounted read-only after 5 of 30 frames.
    Must hold: the stack fails with a reason naming the read-only file system; nothing
    recorded is lost or torn; the daemon keeps serving; after a remount read-write,
    resume completes with each frame exactly once."""
    mount("-o", "remount,size=16m", str(small_disk))
    daemon = Daemon(tmp_path / "d", merged(), state_dir=small_disk / "state")
    try:
        daemon.start()
        daemon.home()
        stack_id = daemon.create_stack({"start_um": 2500, "end_um": 3950, "frames": 30})
        daemon.wait_frames(stack_id, 5)
        mount("-o", "remount,ro", str(small_disk))
        failed = daemon.wait_stack(stack_id, "failed", "completed", "paused")
        assert failed["state"] == "failed", failed
        assert failed["error"]["code"] == "storage"
        assert "read-only" in failed["error"]["message"].lower(), failed["error"]
        folder = daemon.stack_dir(stack_id)
        kept = check_stack_folder(folder, read_manifest(folder, settle=True), interrupted=True)
        assert 5 <= len(kept) < 30
        still_serving(daemon)
        refused = daemon.api.post("/stacks", json={"start_um": 2500, "end_um": 2600, "frames": 3})
        assert refused.status_code != 500, refused.text

        mount("-o", "remount,rw", str(small_disk))
        daemon.home()
        assert daemon.api.post(f"/stacks/{stack_id}/resume").status_code == 200
        done = daemon.wait_stack(stack_id, "completed", "failed", "paused")
        assert done["state"] == "completed", done
        assert check_stack_folder(folder, read_manifest(folder, "completed")) == list(range(1, 31))
    finally:
        daemon.stop()


def test_read_only_state_dir_at_start_is_a_clear_config_error(tmp_path: Path, small_disk: Path) -> None:
    """Injected: `raild serve --state-dir` on a read-only file system.
    Must hold: exit status 78 (EX_CONFIG, so systemd does not restart-loop) and one line
    naming the directory and the fix."""
    mount("-o", "remount,ro", str(small_disk))
    done = subprocess.run(
        [sys.executable, "-m", "raild", "serve", "--sim", "--port", "1", "--state-dir", str(small_disk / "state")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "RAILD_API_TOKEN": "x" * 32},
    )
    assert done.returncode == 78, done.stderr
    assert str(small_disk / "state") in done.stderr and "writable" in done.stderr
