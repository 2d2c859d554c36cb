"""End to end: `raild serve --sim` with `[drive] backend = "grbl"` (the in-process grbl
emulator on a simulated rail), homed and a 5-frame stack through the HTTP API."""

from __future__ import annotations

import io
import signal
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.daemon import DaemonProcess
from tests.support.rig import wait_doc

TOKEN = "grbl-e2e-token-abcdefghijkl"
CONFIG = """
[drive]
backend = "grbl"
[camera]
settle_ms = 0
[homing]
approach_speed_um_s = 1000.0
[sim]
start_position_um = 1500.0
capture_latency_ms = 5
download_ms = 5
preview_ms = 5
image_width = 96
image_height = 64
"""


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[str]:
    proc = DaemonProcess(tmp_path, config=CONFIG, token=TOKEN, stdout_to_log=False)
    try:
        yield proc.start(wait_rail=False).base_url
        assert proc.signal(signal.SIGTERM, timeout_s=10) == 0
    finally:
        proc.stop()
    stderr = proc.log()
    assert "Traceback" not in stderr, stderr
    assert "pigpiod" not in stderr, stderr  # the grbl drive needs no pigpiod


def test_serve_sim_grbl_homes_and_runs_a_stack(daemon: str) -> None:
    with httpx.Client(base_url=daemon, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30) as client:
        status = wait_doc(client, "/api/v1/status", "state", ("idle", "fault"), timeout_s=60)
        assert status["state"] == "idle" and status["homed"] is False, status
        assert client.post("/api/v1/motion/home").status_code == 202
        status = wait_doc(client, "/api/v1/status", "state", ("idle", "fault", "estop"), timeout_s=60)
        assert status["homed"] is True and status["position_known"] is True, status
        r = client.post("/api/v1/motion/move", json={"to_um": 900.0, "wait": True})
        assert r.status_code == 200, r.text
        assert abs(r.json()["status"]["position_um"] - 900.0) < 1.0
        job = client.post("/api/v1/stacks", json={"start_um": 900, "end_um": 1300, "frames": 5})
        assert job.status_code == 201, job.text
        sid = job.json()["id"]
        done = wait_doc(client, f"/api/v1/stacks/{sid}", "state", ("completed", "failed", "paused"), timeout_s=60)
        assert done["state"] == "completed", done
        assert done["frames"] == 5 and done["frame"] == 5, done
        archive = client.get(f"/api/v1/stacks/{sid}/archive")
        with zipfile.ZipFile(io.BytesIO(archive.content)) as zf:
            assert len([n for n in zf.namelist() if n.endswith(".jpg")]) == 5  # simulated frames
        assert client.get("/api/v1/status").json()["state"] == "idle"
