"""/health and /status always answer; with pigpiod away the rig is `fault`, hardware
routes are 503, and the daemon reconnects when pigpiod comes back."""

from __future__ import annotations

import asyncio
from pathlib import Path

from raild.sim import SimRig

from .helpers import AUTH, free_port, running_api, sim_config

HARDWARE_ROUTES = [
    ("POST", "/api/v1/motion/stop"),
    ("POST", "/api/v1/motion/estop"),
    ("POST", "/api/v1/motion/home"),
    ("POST", "/api/v1/motion/zero"),
    ("GET", "/api/v1/stacks"),
]


async def test_status_document_with_the_simulated_rig(tmp_path: Path) -> None:
    async with running_api(tmp_path) as api:
        r = await api.client.get("/api/v1/status", headers=AUTH)
        assert r.status_code == 200
        body = r.json()
        assert body["state"] in ("idle", "fault")
        assert body["camera"] == {"backend": "sim", "connected": True, "model": api.daemon.camera.status()["model"]}
        assert set(body) >= {
            "state",
            "position_um",
            "position_steps",
            "position_known",
            "homed",
            "motor_enabled",
            "limits",
            "switches",
            "camera",
            "job",
            "fault",
        }


async def test_unreachable_pigpiod_is_fault_503_then_reconnects(tmp_path: Path) -> None:
    port = free_port()  # nothing listens here yet
    config = sim_config(pigpio={"port": port, "connect_timeout_s": 1.0})
    async with running_api(tmp_path, config, sim=False) as api:
        assert (await api.client.get("/api/v1/health")).status_code == 200
        status = (await api.client.get("/api/v1/status", headers=AUTH)).json()
        assert status["state"] == "fault"
        assert status["fault"]["code"] in ("pigpiod_unreachable", "no_rail")
        for method, path in HARDWARE_ROUTES:
            r = await api.client.request(method, path, headers=AUTH)
            assert r.status_code == 503, (path, r.text)
            assert r.headers["content-type"] == "application/problem+json"
        rig = SimRig(config)
        await rig.start(host="127.0.0.1", port=port)
        try:
            for _ in range(100):
                status = (await api.client.get("/api/v1/status", headers=AUTH)).json()
                if status["state"] != "fault":
                    break
                await asyncio.sleep(0.1)
            assert status["state"] == "idle", status
            assert (await api.client.get("/api/v1/stacks", headers=AUTH)).status_code == 200
        finally:
            await api.daemon.stop()
            await rig.stop()


async def test_lost_connection_is_fault_then_rebuilt(tmp_path: Path) -> None:
    async with running_api(tmp_path) as api:
        bus = api.daemon.events.subscribe()
        api.daemon.sim.inject_disconnect()
        for _ in range(100):
            status = (await api.client.get("/api/v1/status", headers=AUTH)).json()
            if status["state"] == "fault":
                break
            await asyncio.sleep(0.05)
        assert status["state"] == "fault", status
        assert (await api.client.post("/api/v1/motion/stop", headers=AUTH)).status_code == 503
        kinds = []
        while (event := await bus.get(timeout_s=0.5)) is not None:
            kinds.append(event.kind)
        assert "daemon:fault" in kinds
        for _ in range(150):
            status = (await api.client.get("/api/v1/status", headers=AUTH)).json()
            if status["state"] == "idle":
                break
            await asyncio.sleep(0.1)
        # Back, and honest about it: never homed again by itself.
        assert status["state"] == "idle" and status["homed"] is False, status
        assert (await api.client.get("/api/v1/stacks", headers=AUTH)).status_code == 200
        bus.close()
