"""pigpiod going away under a running daemon: its connection dropped mid-move, and
the pigpiod process killed and started again mid-stack. Here "pigpiod" is the emulator
run as its own process (`raild sim-rig`), with `raild serve` pointed at it as on a Pi."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pigpio
import pytest

from tests.faults.checks import check_stack_folder, read_manifest
from tests.faults.harness import TOKEN, Daemon, SimRigProcess, merged, wait_for
from tests.faults.sse import SseCrowd

pytestmark = [pytest.mark.timeout(150)]
ENABLE_PIN = 16  # config default, active low: a high level is a disabled driver


@pytest.fixture
def rig_and_daemon(tmp_path: Path) -> Iterator[tuple[SimRigProcess, Daemon]]:
    rig = SimRigProcess(tmp_path / "rig").start()
    config = merged({"pigpio": {"host": "127.0.0.1", "port": rig.port}})
    daemon = Daemon(tmp_path / "daemon", config, sim=False)
    try:
        daemon.start()
        yield rig, daemon
    finally:
        daemon.stop()
        rig.stop()


def driver_level(rig: SimRigProcess) -> int:
    pi = pigpio.pi("127.0.0.1", rig.port)
    assert pi.connected
    try:
        return int(pi.read(ENABLE_PIN))
    finally:
        pi.stop()


def true_um(rig: SimRigProcess) -> float:
    return float(rig.inspect("position")["true_position_um"])


def recovered_by_homing(rig: SimRigProcess, daemon: Daemon) -> None:
    """Moves are refused while the position is unknown; homing makes them exact again."""
    refused = daemon.api.post("/motion/move", json={"to_um": 4000.0})
    assert refused.status_code == 409, refused.text
    daemon.home()
    reply = daemon.api.post("/motion/move", json={"to_um": 4321.0, "wait": True})
    assert reply.status_code == 200, reply.text
    status = daemon.status()
    assert status["position_known"] and status["position_um"] == pytest.approx(4321.0, abs=0.5)
    assert true_um(rig) == pytest.approx(status["position_um"], abs=0.5)
    assert rig.inspect("lost_steps")["lost_steps"] == 0


def test_connection_dropped_mid_move(rig_and_daemon: tuple[SimRigProcess, Daemon]) -> None:
    """Injected: every pigpio connection dropped (the emulator's disconnect) once a 20 s
    move is playing. Must hold: clients get a `fault` event and state `fault`; once reconnected
    the wave is halted, the driver disabled and the position unknown (not homed); moves are
    refused until homing, after which they are exact and no step is lost."""
    rig, daemon = rig_and_daemon
    daemon.home()
    crowd = SseCrowd("127.0.0.1", daemon.port, TOKEN, 1)
    try:
        reply = daemon.api.post("/motion/move", json={"to_um": 62_000.0})
        assert reply.status_code == 202, reply.text
        wait_for(lambda: rig.inspect("status")["wave_busy"], 10, "the move's waves to play")
        rig.inspect("disconnect")
        watcher = crowd.clients[0]
        crowd.wait(
            lambda: any(d.get("code") == "pigpiod_lost" for d in watcher.of("fault")), 10, "a pigpiod fault event"
        )
        crowd.wait(
            lambda: any(d.get("state") == "fault" for d in watcher.of("status")), 10, "a status event saying fault"
        )
    finally:
        crowd.close()
    status = wait_for(
        lambda: (s := daemon.status())["state"] == "idle" and s, 30, "the daemon to reconnect to pigpiod", daemon.proc
    )
    assert status["position_known"] is False and status["homed"] is False, status
    assert status["motor_enabled"] is False, status
    assert rig.inspect("status")["wave_busy"] is False
    assert driver_level(rig) == 1  # EN high: driver off
    resting = true_um(rig)
    time.sleep(0.3)
    assert true_um(rig) == resting  # nothing is still stepping
    recovered_by_homing(rig, daemon)


def test_pigpiod_killed_and_restarted_mid_stack(rig_and_daemon: tuple[SimRigProcess, Daemon]) -> None:
    """Injected: SIGKILL of the pigpiod process after 5 of 20 frames; restarted 2 s later
    on the same port. Must hold: meanwhile the daemon answers, says `fault` with a reason
    naming pigpiod, and hardware commands get 503; the stack keeps every confirmed frame
    and is `interrupted`; after pigpiod returns the daemon reconnects by itself with the
    position unknown; after homing the stack resumes and completes, nothing lost or doubled."""
    rig, daemon = rig_and_daemon
    daemon.home()
    stack_id = daemon.create_stack({"start_um": 2500, "end_um": 3900, "frames": 20})
    daemon.wait_frames(stack_id, 5)
    reported = daemon.stack(stack_id)["frame"]
    rig.kill()
    down = wait_for(lambda: (s := daemon.status())["state"] == "fault" and s, 10, "state fault", daemon.proc)
    assert "pigpiod" in down["fault"]["message"], down
    assert daemon.api.post("/motion/home").status_code == 503
    assert daemon.api.get("/health").status_code == 200
    time.sleep(2.0)
    rig.start()
    status = wait_for(
        lambda: (s := daemon.status())["state"] == "idle" and s, 30, "the daemon to reconnect", daemon.proc
    )
    assert status["position_known"] is False and status["homed"] is False
    # The rail and the stack layer come back together: an idle rail means /stacks answers.
    reply = daemon.api.get(f"/stacks/{stack_id}")
    assert reply.status_code == 200, reply.text
    job = reply.json()
    assert job["state"] == "interrupted", job
    folder = daemon.stack_dir(stack_id)
    kept = check_stack_folder(folder, read_manifest(folder, "interrupted"), interrupted=True)
    # docs/reliability.md: every confirmed frame is kept (the daemon lives on, so every
    # manifest write it reported lands).
    assert len(kept) >= reported and job["frame"] == len(kept)
    assert daemon.api.post(f"/stacks/{stack_id}/resume").status_code == 409  # home first
    recovered_by_homing(rig, daemon)
    assert daemon.api.post(f"/stacks/{stack_id}/resume").status_code == 200
    done = daemon.wait_stack(stack_id, "completed", "failed", "paused")
    assert done["state"] == "completed", done
    assert check_stack_folder(folder, read_manifest(folder, "completed")) == list(range(1, 21))
