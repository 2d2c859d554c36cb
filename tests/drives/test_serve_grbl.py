"""End to end: `raild serve --sim` with `[drive] backend = "grbl"` (the in-process grbl
emulator on a simulated rail), homed and a 5-frame stack through the HTTP API."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.api.helpers import free_port

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
    config = tmp_path / "raild.toml"
    config.write_text(CONFIG)
    port = free_port()
    env = {**os.environ, "RAILD_API_TOKEN": TOKEN}
    env.pop("NOTIFY_SOCKET", None)
    args = ["serve", "--sim", "--config", str(config), "--host", "127.0.0.1", "--port", str(port)]
    proc = subprocess.Popen(
        [sys.executable, "-m", "raild", *args, "--state-dir", str(tmp_path / "state")],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            try:
                if httpx.get(f"{base}/api/v1/health", timeout=0.5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "raild serve --sim did not come up"
            time.sleep(0.1)
        yield base
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            assert proc.wait(timeout=10) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    stderr = proc.stderr.read().decode() if proc.stderr else ""
    assert "Traceback" not in stderr, stderr
    assert "pigpiod" not in stderr, stderr  # the grbl drive needs no pigpiod


def _wait(client: httpx.Client, path: str, key: str, values: tuple[str, ...], timeout_s: float = 60) -> dict:
    deadline = time.monotonic() + timeout_s
    while True:
        doc = client.get(path).json()
        if doc.get(key) in values:
            return doc
        assert time.monotonic() < deadline, doc
        time.sleep(0.1)


def test_serve_sim_grbl_homes_and_runs_a_stack(daemon: str) -> None:
    with httpx.Client(base_url=daemon, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30) as client:
        status = _wait(client, "/api/v1/status", "state", ("idle", "fault"))
        assert status["state"] == "idle" and status["homed"] is False, status
        assert client.post("/api/v1/motion/home").status_code == 202
        status = _wait(client, "/api/v1/status", "state", ("idle", "fault", "estop"))
        assert status["homed"] is True and status["position_known"] is True, status
        r = client.post("/api/v1/motion/move", json={"to_um": 900.0, "wait": True})
        assert r.status_code == 200, r.text
        assert abs(r.json()["status"]["position_um"] - 900.0) < 1.0
        job = client.post("/api/v1/stacks", json={"start_um": 900, "end_um": 1300, "frames": 5})
        assert job.status_code == 201, job.text
        sid = job.json()["id"]
        done = _wait(client, f"/api/v1/stacks/{sid}", "state", ("completed", "failed", "paused"))
        assert done["state"] == "completed", done
        assert done["frames"] == 5 and done["frame"] == 5, done
        archive = client.get(f"/api/v1/stacks/{sid}/archive")
        with zipfile.ZipFile(io.BytesIO(archive.content)) as zf:
            assert len([n for n in zf.namelist() if n.endswith(".jpg")]) == 5  # simulated frames
        assert client.get("/api/v1/status").json()["state"] == "idle"
