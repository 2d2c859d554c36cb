"""A 5-frame stack through the whole daemon: `raild serve` on the rig, driven over HTTP.

On the Pi it uses the configured camera (a USB camera must be connected when the
backend is gphoto2). Against the emulator the camera is the wired shutter, and the
virtual carriage's position at each shutter edge is compared with the frame list.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from hw_tests.conftest import report
from hw_tests.rig import Target
from raild.config import Config
from tests.support.configs import config_toml
from tests.support.daemon import DaemonProcess
from tests.support.ports import free_port
from tests.support.waiting import wait_for

TOKEN = "hw-test-token-0123456789abcdef"
FRAMES = 5
STEP_UM = 100.0
TIMEOUT_S = 120.0


def _daemon_config(target: Target) -> Config:
    overrides: dict[str, Any] = {
        "pigpio": {"host": target.host, "port": target.port},
        "daemon": {"mdns": False},
        "api": {"host": "127.0.0.1", "port": free_port()},
    }
    if target.simulated:
        overrides["camera"] = {"backend": "gpio", "trigger": "usb", "exposure_ms": 50}
    return target.config.with_overrides(**overrides)


@pytest.fixture
def daemon(target: Target, tmp_path: Path) -> Iterator[httpx.Client]:
    config = _daemon_config(target)
    if config.camera.backend == "gphoto2":
        from raild.check import _autodetect

        if not _autodetect():
            pytest.skip("camera.backend is gphoto2 but no USB camera is detected")
    proc = DaemonProcess(tmp_path, config=config_toml(config), sim=False, token=TOKEN, port=config.api.port)
    try:
        yield proc.start(wait_rail=False).api
    finally:
        proc.stop()


def _wait(ready: Any, timeout_s: float, what: str) -> Any:
    return wait_for(ready, timeout_s, what, every_s=0.1)


def _status(client: httpx.Client) -> dict[str, Any]:
    response = client.get("/status")
    response.raise_for_status()
    return response.json()


def test_five_frame_stack(target: Target, daemon: httpx.Client) -> None:
    client = daemon
    _wait(lambda: _status(client)["state"] == "idle", 30, "the rail did not become idle")
    if target.config.homing.switch != "none":
        assert client.post("/motion/home").status_code == 202
        _wait(
            lambda: _status(client)["homed"] and _status(client)["state"] == "idle", TIMEOUT_S, "homing did not finish"
        )
    else:
        assert client.post("/motion/zero").status_code == 200
    start_um = _status(client)["position_um"] + 1_000.0
    end_um = start_um + STEP_UM * (FRAMES - 1)
    since = target.inspector.ask("triggers")["count"] if target.inspector else 0

    created = client.post("/stacks", json={"start_um": start_um, "end_um": end_um, "frames": FRAMES, "settle_ms": 50})
    assert created.status_code == 201, created.text
    stack_id = created.json()["id"]
    done = _wait(
        lambda: (
            (s := client.get(f"/stacks/{stack_id}").json())["state"]
            in ("completed", "failed", "cancelled", "interrupted")
            and s
        ),
        TIMEOUT_S,
        "the stack did not finish",
    )
    assert done["state"] == "completed", done

    frames = client.get(f"/stacks/{stack_id}/frames").json()
    assert len(frames) == FRAMES
    indexes = [f["index"] for f in frames]
    assert indexes == list(range(indexes[0], indexes[0] + FRAMES)), indexes  # in focus order
    positions = [f["position_um"] for f in frames]
    steps = [b - a for a, b in itertools.pairwise(positions)]
    assert all(abs(abs(s) - STEP_UM) < 1.0 for s in steps), positions
    if target.config.camera.backend == "gphoto2" and not target.simulated:
        assert all(f["confirmed"] and f["size"] > 0 for f in frames), frames

    if target.inspector is not None:
        triggers = target.inspector.ask("triggers", since=since)["triggers"]
        shots = [t["position_um"] for t in triggers if t["kind"] == "shutter" and t["active"]]
        assert len(shots) == FRAMES, triggers
        errors = [abs(shot - planned) for shot, planned in zip(shots, positions, strict=True)]
        # The rail's idea of each frame's position against the true carriage.
        assert max(errors) < 2.0, list(zip(shots, positions, strict=True))
        report(f"SIMULATED 5-frame stack: true carriage at each shutter within {max(errors):.2f} um of the frame list")
    else:
        report(f"5-frame stack completed: frames at {', '.join(f'{p:.0f}' for p in positions)} um")
