"""What the HTTP API answers while the grbl link is away and once it is back by itself
(`Daemon(sim=True)` with the grbl emulator on a simulated rail, app in-process)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from raild.events import Subscription
from tests.api.helpers import AUTH, home, running_api, sim_config


async def _link(sub: Subscription, link: str) -> None:
    async with asyncio.timeout(30):
        while True:
            event = await sub.get()
            if event is not None and event.kind == "rail:link" and event.data["link"] == link:
                return


async def test_moves_answer_503_while_the_link_is_away_and_the_rail_comes_back(tmp_path: Path) -> None:
    async with running_api(tmp_path, sim_config(drive={"backend": "grbl"})) as api:
        await home(api)
        sim = api.daemon.sim
        with api.daemon.events.subscribe(maxsize=1000) as sub:
            await asyncio.to_thread(sim.unplug)
            await _link(sub, "lost")
            status = (await api.client.get("/api/v1/status", headers=AUTH)).json()
            assert status["link"] == "lost" and status["state"] == "fault" and not status["homed"]
            r = await api.client.post("/api/v1/motion/move", json={"to_um": 900.0}, headers=AUTH)
            assert r.status_code == 503, r.text
            assert r.headers["content-type"].startswith("application/problem+json")
            assert "reconnecting" in r.json()["detail"]
            await asyncio.to_thread(sim.replug, True)
            await _link(sub, "ready")
        status = (await api.client.get("/api/v1/status", headers=AUTH)).json()
        assert status["link"] == "ready" and status["state"] == "idle" and status["fault"] is None
        assert not status["homed"] and not status["position_known"]
        r = await api.client.post("/api/v1/motion/move", json={"to_um": 900.0}, headers=AUTH)
        assert r.status_code == 409, r.text  # not homed: the position was lost with the link
        await home(api)
        r = await api.client.post("/api/v1/motion/move", json={"to_um": 900.0, "wait": True}, headers=AUTH)
        assert r.status_code == 200, r.text
        assert r.json()["status"]["position_steps"] == sim.rail.true_position_steps
