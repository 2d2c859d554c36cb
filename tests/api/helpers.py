"""Helpers for the API tests. The API under test is the real app over the real daemon with the simulated rig.

`api` starts a `Daemon(sim=True)` exactly as `raild serve --sim` does (pigpiod
emulator, virtual rail, simulated camera, stack manager) and talks to the app
in-process through httpx's ASGI transport; `live_api` runs it on a real uvicorn
socket for streaming tests.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI

from raild.api.app import create_app
from raild.config import Config, validate_data
from raild.daemon import Daemon
from tests.support.ports import free_port

TOKEN = "api-test-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def sim_config(**sections: dict[str, Any]) -> Config:
    """The defaults, made quick: short settle and camera times, a fast clock."""
    data: dict[str, Any] = Config().model_dump()
    data["camera"].update(settle_ms=0)
    data["sim"].update(
        capture_latency_ms=5, download_ms=5, preview_ms=5, image_width=96, image_height=64, start_position_um=1500.0
    )
    # Homing in about a second: the carriage starts near the switch.
    data["homing"].update(approach_speed_um_s=1000.0)
    for section, values in sections.items():
        data[section].update(values)
    return validate_data(data, "test")


@dataclass
class Api:
    daemon: Daemon
    app: FastAPI
    client: httpx.AsyncClient
    state_dir: Path


@contextlib.asynccontextmanager
async def running_api(tmp_path: Path, config: Config | None = None, sim: bool = True) -> AsyncIterator[Api]:
    state_dir = tmp_path / "state"
    state_dir.mkdir(exist_ok=True)
    daemon = Daemon(config or sim_config(), state_dir, TOKEN, sim=sim)
    await daemon.start()
    app = create_app(daemon)
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 40000))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
            yield Api(daemon, app, client, state_dir)
    finally:
        await daemon.stop()


async def wait_state(api: Api, wanted: str = "idle", timeout_s: float = 20.0) -> dict[str, Any]:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        status = (await api.client.get("/api/v1/status", headers=AUTH)).json()
        if status["state"] == wanted:
            return status
        assert asyncio.get_running_loop().time() < deadline, f"still {status['state']}: {status}"
        await asyncio.sleep(0.05)


async def home(api: Api) -> dict[str, Any]:
    r = await api.client.post("/api/v1/motion/home", headers=AUTH)
    assert r.status_code == 202, r.text
    status = await wait_state(api)
    assert status["homed"] and status["position_known"], status
    return status


@dataclass
class LiveApi:
    daemon: Daemon
    app: FastAPI
    base_url: str


@contextlib.asynccontextmanager
async def serving(api: Api) -> AsyncIterator[LiveApi]:
    """The same app on a real uvicorn socket on loopback."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            api.app, host="127.0.0.1", port=port, log_config=None, access_log=False, lifespan="off", ws="none"
        )
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        assert not task.done(), "uvicorn did not start"
        await asyncio.sleep(0.01)
    try:
        yield LiveApi(api.daemon, api.app, f"http://127.0.0.1:{port}")
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)
