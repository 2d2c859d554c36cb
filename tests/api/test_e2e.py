"""End to end: `raild serve --sim` as a user runs it, driven with httpx and with curl."""

from __future__ import annotations

import io
import json
import shutil
import signal
import subprocess
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.daemon import DaemonProcess
from tests.support.ports import free_port
from tests.support.rig import wait_doc
from tests.support.waiting import wait_for

TOKEN = "e2e-token-abcdefghijklmnop"
CONFIG = """
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


def _sim(tmp_path: Path) -> DaemonProcess:
    return DaemonProcess(tmp_path, config=CONFIG, token=TOKEN, stdout_to_log=False)


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[str]:
    proc = _sim(tmp_path)
    try:
        yield proc.start(wait_rail=False).base_url
        assert proc.signal(signal.SIGTERM, timeout_s=10) == 0
    finally:
        proc.stop()
    stderr = proc.log()
    assert TOKEN not in stderr
    assert "Traceback" not in stderr, stderr


def test_serve_sim_with_httpx(daemon: str) -> None:
    with httpx.Client(base_url=daemon, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10) as client:
        assert client.get("/api/v1/status").json()["homed"] is False
        assert client.post("/api/v1/motion/home").status_code == 202
        status = wait_doc(client, "/api/v1/status", "state", ("idle", "fault"))
        assert status["homed"] is True, status
        r = client.post("/api/v1/motion/move", json={"to_um": 900.0, "wait": True})
        assert r.status_code == 200 and abs(r.json()["status"]["position_um"] - 900.0) < 0.5
        job = client.post("/api/v1/stacks", json={"start_um": 900, "end_um": 1100, "frames": 3})
        assert job.status_code == 201, job.text
        sid = job.json()["id"]
        done = wait_doc(client, f"/api/v1/stacks/{sid}", "state", ("completed", "failed", "paused"))
        assert done["state"] == "completed", done
        archive = client.get(f"/api/v1/stacks/{sid}/archive")
        with zipfile.ZipFile(io.BytesIO(archive.content)) as zf:
            assert len([n for n in zf.namelist() if n.endswith(".jpg")]) == 3
        page = client.get("/")
        assert page.status_code == 200 and "<html" in page.text.lower()
        docs = client.get("/docs")
        assert docs.status_code == 200 and "swagger-ui-bundle.js" in docs.text


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_serve_sim_with_curl(daemon: str, tmp_path: Path) -> None:
    auth = ["-H", f"Authorization: Bearer {TOKEN}"]

    def curl(*args: str, timeout_s: float = 30) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["curl", "-sS", *auth, *args], capture_output=True, text=True, timeout=timeout_s, check=False
        )

    # Events with curl -N: the full status comes first, then changes as the rail homes.
    events = subprocess.Popen(["curl", "-sSN", *auth, f"{daemon}/api/v1/events"], stdout=subprocess.PIPE, text=True)
    try:
        assert events.stdout is not None
        first = [events.stdout.readline() for _ in range(2)]
        assert first[0] == "event: status\n"
        assert json.loads(first[1].removeprefix("data: "))["state"] == "idle"
        r = curl("-X", "POST", f"{daemon}/api/v1/motion/home", "-w", "%{http_code}")
        assert r.stdout.endswith("202"), r.stdout
        seen_homing = False
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = events.stdout.readline()
            if line.startswith("data: "):
                state = json.loads(line[6:])
                seen_homing |= state["state"] == "homing"
                if seen_homing and state["state"] == "idle" and state["homed"]:
                    break
        else:
            raise AssertionError("no homed status event")
    finally:
        events.terminate()
        events.wait(timeout=5)

    r = curl(
        "-X",
        "POST",
        "-H",
        "Content-Type: application/json",
        "-d",
        '{"to_um": 700, "wait": true}',
        f"{daemon}/api/v1/motion/move",
    )
    assert json.loads(r.stdout)["done"] is True
    r = curl(
        "-X",
        "POST",
        "-H",
        "Content-Type: application/json",
        "-d",
        '{"start_um": 700, "end_um": 800, "step_um": 50}',
        f"{daemon}/api/v1/stacks",
    )
    sid = json.loads(r.stdout)["id"]
    wait_for(
        lambda: json.loads(curl(f"{daemon}/api/v1/stacks/{sid}").stdout)["state"] == "completed",
        30,
        "the stack to complete",
        every_s=0.1,
    )
    out = tmp_path / "stack.zip"
    r = curl("-f", "-o", str(out), "-D", "-", f"{daemon}/api/v1/stacks/{sid}/archive")
    assert r.returncode == 0 and "application/zip" in r.stdout.lower()
    with zipfile.ZipFile(out) as zf:
        assert zf.testzip() is None
        assert f"{sid}/positions.csv" in zf.namelist()
    # Errors are problem documents, also for curl users.
    r = curl(
        "-X",
        "POST",
        "-H",
        "Content-Type: application/json",
        "-d",
        '{"to_um": NaN}',
        f"{daemon}/api/v1/motion/move",
        "-w",
        "\n%{http_code} %{content_type}",
    )
    assert r.stdout.rstrip().endswith("422 application/problem+json")
    r = subprocess.run(
        ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", f"{daemon}/api/v1/status"],
        capture_output=True,
        text=True,
        timeout=10,
        check=False,
    )
    assert r.stdout == "401"


def test_serve_without_pigpiod_still_answers(tmp_path: Path) -> None:
    """A Pi whose pigpiod is down: raild serve starts, says why, hardware routes 503."""
    config = f"[pigpio]\nport = {free_port()}\nconnect_timeout_s = 1.0\n[daemon]\nmdns = false\n"
    proc = DaemonProcess(tmp_path, config=config, sim=False, token=TOKEN, stdout_to_log=False)
    try:
        proc.start(wait_rail=False)
        base = proc.base_url
        headers = {"X-Api-Key": TOKEN}
        status = httpx.get(f"{base}/api/v1/status", headers=headers).json()
        assert status["state"] == "fault"
        assert status["fault"]["code"] == "pigpiod_unreachable"
        assert "pigpiod" in status["fault"]["message"]
        r = httpx.post(f"{base}/api/v1/motion/home", headers=headers)
        assert r.status_code == 503 and r.headers["content-type"] == "application/problem+json"
        assert proc.signal(signal.SIGTERM, timeout_s=10) == 0
    finally:
        proc.stop()


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_sigterm_with_open_streams_exits_cleanly_in_time(tmp_path: Path) -> None:
    proc = _sim(tmp_path)
    streams: list[subprocess.Popen[str]] = []
    try:
        base = proc.start(wait_rail=False).base_url
        for path in ("/api/v1/events", "/api/v1/camera/liveview"):
            streams.append(
                subprocess.Popen(
                    ["curl", "-sSN", "-H", f"X-Api-Key: {TOKEN}", "-o", "/dev/null", base + path], text=True
                )
            )
        time.sleep(1.0)
        assert all(s.poll() is None for s in streams), "streams should still be open"
        sent = time.monotonic()
        assert proc.signal(signal.SIGTERM, timeout_s=10) == 0
        assert time.monotonic() - sent < 5.0
    finally:
        for s in streams:
            if s.poll() is None:
                s.kill()
            s.wait()
        proc.stop()
