"""Clocks that jump: pigpio's 32-bit µs tick wrapping around mid-stack (every 71.6
minutes on a Pi), and the wall clock stepped back and forth (NTP catching up after a
boot without network, or someone setting the date) while a stack runs."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from raild.stacks.model import ACTIVE_STATES
from tests.faults.camera_faults import LAUNCHER, Faults
from tests.faults.checks import check_stack_folder, read_manifest
from tests.faults.harness import Daemon, merged, wait_for
from tests.faults.inproc import home, served_daemon

pytestmark = [pytest.mark.timeout(120)]
TICK_WRAP = 2**32


def wait_until_tick_before_wrap(rig: object, lead_us: int) -> None:
    """Sleep until the tick is `lead_us` short of wrapping (it counts up in real time)."""
    left_us = TICK_WRAP - rig.tick()  # type: ignore[attr-defined]
    assert left_us > lead_us, f"too late: the tick wraps in {left_us} µs"
    time.sleep((left_us - lead_us) / 1e6)


def test_tick_wraps_mid_stack(tmp_path: Path) -> None:
    """Injected: the emulator's tick set (`[sim] tick_offset_us`) to wrap past 2**32 one
    second into a 24-frame stack.
    Must hold: the wrap happened inside the stack; every exposure was made at exactly its
    planned microstep (the carriage's true position); no step lost, no timing violation."""
    offset = TICK_WRAP - 12_000_000
    with served_daemon(tmp_path, {"sim": {"tick_offset_us": offset}}) as served, served.client() as api:
        rig = served.daemon.sim
        home(api)
        wait_until_tick_before_wrap(rig, 1_000_000)
        tick_before = rig.tick()
        reply = api.post("/stacks", json={"start_um": 2500, "end_um": 4800, "frames": 24})
        assert reply.status_code == 201, reply.text
        stack_id = reply.json()["id"]
        wait_for(
            lambda: api.get(f"/stacks/{stack_id}").json()["state"] not in ("queued", "running"), 60, "the stack to end"
        )
        assert rig.tick() < tick_before, "the tick did not wrap during the stack"
        assert api.get(f"/stacks/{stack_id}").json()["state"] == "completed"
        folder = served.daemon.stacks.stack_dir(stack_id)
        manifest = read_manifest(folder, "completed")
        check_stack_folder(folder, manifest)
        captures = [t for t in rig.rail.triggers if t.kind == "capture"]
        assert [c.label for c in captures] == [f["file"] for f in manifest["frames"]]
        um_per_step = served.daemon.config.rail.um_per_step
        for capture, frame in zip(captures, manifest["frames"], strict=True):
            assert round(capture.position_um / um_per_step) == frame["position_steps"], (capture, frame)
        status = api.get("/status").json()
        assert status["position_steps"] == served.true_position_steps
        assert rig.rail.lost_steps == 0
        assert rig.rail.violations == []


@pytest.mark.parametrize("lead_us", [300_000, 0], ids=["started-before-wrap", "after-wrap"])
def test_move_stopped_across_the_wrap_knows_its_position(tmp_path: Path, lead_us: int) -> None:
    """Injected: a long move started 0.3 s before the tick wraps (or on a tick that wrapped
    before the daemon came up), then a controlled stop once it has gone 1 mm past the wrap. Must hold: the rail
    stops half-way and the position it reports is the carriage's true position: a stop
    decelerates and always keeps the position exact."""
    offset = TICK_WRAP - (8_000_000 if lead_us else 500_000)
    with served_daemon(tmp_path, {"sim": {"tick_offset_us": offset}}) as served, served.client() as api:
        rig = served.daemon.sim
        if lead_us:
            home(api)
            wait_until_tick_before_wrap(rig, lead_us)
        else:
            wait_for(lambda: rig.tick() < offset, 15, "the wrap")
            home(api)
        start_steps = served.true_position_steps
        reply = api.post("/motion/move", json={"to_um": 30_000.0})
        assert reply.status_code == 202
        um_per_step = served.daemon.config.rail.um_per_step
        # Stop once the move is well under way and the tick has wrapped (the move began
        # before or after it): waited for, so a slow host cannot stop it before it starts.
        wait_for(
            lambda: (served.true_position_steps - start_steps) * um_per_step > 1000 and rig.tick() < offset,
            15,
            "the move under way on a wrapped tick",
        )
        assert api.post("/motion/stop").status_code == 200
        wait_for(lambda: api.get("/status").json()["state"] == "idle", 10, "the stop to finish")
        status = api.get("/status").json()
        true_steps = served.true_position_steps
        assert 300 < true_steps * served.daemon.config.rail.um_per_step < 30_000  # really stopped half-way
        assert status["position_known"]
        assert status["position_steps"] == true_steps, f"believes {status['position_steps']}, is at {true_steps}"
        assert rig.rail.lost_steps == 0


def test_wall_clock_steps_mid_stack(tmp_path: Path) -> None:
    """Injected: the daemon's wall clock set back one hour after frame 5 and forward two
    hours a couple of frames later, in a 30-frame stack (`time.time()` shifted; the monotonic clock,
    as on Linux, is not).
    Must hold: the stack completes with every frame; the ETA never goes negative nor
    jumps by the hours the clock moved; manifest and files agree."""
    faults = Faults(tmp_path / "faults.json", tmp_path / "faults.log")
    faults.set(wall_offset_s=0)
    daemon = Daemon(
        tmp_path / "d",
        merged({"camera": {"settle_ms": 150}}),
        launcher=[LAUNCHER],
        env={"RAILD_FAULTS_FILE": str(faults.file)},
    )
    try:
        daemon.start()
        daemon.home()
        stack_id = daemon.create_stack({"start_um": 2500, "end_um": 3950, "frames": 30})
        etas: list[float] = []

        def sample_until(frames: int) -> None:
            def check() -> bool:
                job = daemon.stack(stack_id)
                if job["eta_s"] is not None:
                    etas.append(job["eta_s"])
                # "queued" is not an end: a stack polled before its runner starts has 0 frames
                # yet, and stepping the clock then would put frame 1 under the step.
                return job["frame"] >= frames or job["state"] not in ACTIVE_STATES

            wait_for(check, 60, f"{frames} frames", daemon.proc)

        sample_until(5)
        faults.set(wall_offset_s=-3600)
        # Step forward only once a frame has surely been exposed under the step back
        # (polling can see the frame count late, so count from what it shows now).
        sample_until(daemon.stack(stack_id)["frame"] + 2)
        faults.set(wall_offset_s=7200)
        sample_until(30)
        done = daemon.wait_stack(stack_id, "completed", "failed", "paused")
        assert done["state"] == "completed", done
        estimate_s = done["plan"]["estimate_s"]
        assert etas and all(0 <= eta <= 3 * estimate_s + 5 for eta in etas), (estimate_s, max(etas))
        folder = daemon.stack_dir(stack_id)
        manifest = read_manifest(folder, "completed")
        assert check_stack_folder(folder, manifest) == list(range(1, 31))
        # The jumps really reached the daemon: exposure times (wall clock) show them.
        times = [f["time_s"] for f in manifest["frames"]]
        assert min(times) < times[0] - 3000 and max(times) > times[0] + 3000
    finally:
        daemon.stop()
