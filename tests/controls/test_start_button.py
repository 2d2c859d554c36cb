"""The start button (start the last setup / pause / resume) and the phone's view of
the buttons: the real app over a daemon with the in-process virtual rig."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx

from raild.events import Subscription
from tests.api.helpers import AUTH, Api, home, running_api, serving, sim_config
from tests.controls.conftest import PANEL, next_event, until

SETUP = {"start_um": 1000.0, "end_um": 1400.0, "step_um": 100.0, "settle_ms": 250}


async def _click(api: Api, sub: Subscription, name: str) -> None:
    """Press, wait until the daemon saw it, let go."""
    api.daemon.sim.buttons.set(name, True)
    event = await next_event(sub, "controls:press")
    assert event.data == {"button": name}
    api.daemon.sim.buttons.set(name, False)


def _job(api: Api) -> dict:
    return api.daemon.status()["job"] or {}


async def test_start_button_starts_the_last_setup_pauses_and_resumes(tmp_path: Path) -> None:
    panel = {k: v for k, v in PANEL.items() if k != "jog_step_um"}
    async with running_api(tmp_path, sim_config(buttons=panel)) as api:
        await home(api)
        with api.daemon.events.subscribe() as sub:
            await _click(api, sub, "start")  # nothing set up yet: refused, and told so
            refused = await next_event(sub, "controls:refused")
            assert refused.data["action"] == "start" and "set one up" in refused.data["message"]

            reply = await api.client.post("/api/v1/stacks", json=SETUP, headers=AUTH)
            assert reply.status_code == 201, reply.text
            first = reply.json()["id"]
            assert api.daemon.last_stack_request == SETUP  # what was asked, as it was asked
            await until(lambda: _job(api).get("state") == "running", 5, "the stack to run")

            await _click(api, sub, "start")  # running: pause
            await until(lambda: _job(api).get("state") == "paused", 10, "the stack to pause")
            paused_at = _job(api)["frame"]
            assert paused_at < 5
            await _click(api, sub, "start")  # paused: resume
            await until(lambda: _job(api).get("state") == "completed", 20, "the stack to complete")
            assert (_job(api)["id"], _job(api)["frame"]) == (first, 5)

            await _click(api, sub, "start")  # finished: the same setup again, as a new stack
            await until(lambda: _job(api).get("id") not in (None, first), 5, "a new stack")
            second = _job(api)["id"]
            await until(lambda: _job(api).get("state") == "completed", 20, "the new stack to complete")
        plans = [(await api.client.get(f"/api/v1/stacks/{i}", headers=AUTH)).json()["plan"] for i in (first, second)]
        for plan in plans:
            plan.pop("estimate_s", None)  # depends on where the rail was when it started
        assert plans[0] == plans[1]


async def test_a_button_press_reaches_the_phone_as_an_event(tmp_path: Path) -> None:
    panel = {"stop": PANEL["stop"]}
    async with running_api(tmp_path, sim_config(buttons=panel)) as api, serving(api) as live:
        async with httpx.AsyncClient(base_url=live.base_url, headers=AUTH, timeout=5) as client:
            async with client.stream("GET", "/api/v1/events") as r:
                lines = r.aiter_lines()
                assert (await anext(lines)).startswith("event: status")
                await until(lambda: api.daemon.events.subscriber_count >= 1, 2, "the stream to subscribe")
                api.daemon.sim.buttons.set("stop", True)
                while True:
                    line = await asyncio.wait_for(anext(lines), 3)
                    if line == "event: controls":
                        data = await anext(lines)
                        break
        api.daemon.sim.buttons.set("stop", False)
    assert json.loads(data.removeprefix("data:").strip()) == {"kind": "controls:press", "button": "stop"}


async def test_stop_button_pauses_a_running_stack_and_start_resumes_it(tmp_path: Path) -> None:
    panel = {"stop": PANEL["stop"], "start": PANEL["start"]}
    async with running_api(tmp_path, sim_config(buttons=panel)) as api:
        await home(api)
        reply = await api.client.post("/api/v1/stacks", json=SETUP, headers=AUTH)
        assert reply.status_code == 201, reply.text
        stack_id = reply.json()["id"]
        with api.daemon.events.subscribe() as sub:
            await until(lambda: _job(api).get("frame", 0) >= 1, 10, "the first frame")
            await _click(api, sub, "stop")
            await until(lambda: _job(api).get("state") == "paused", 10, "the stack to pause")
            status = api.daemon.status()
            assert status["state"] == "idle" and status["position_known"], status
            assert _job(api)["frame"] < 5
            await _click(api, sub, "start")
            await until(lambda: _job(api).get("state") == "completed", 20, "the stack to complete")
        stack = (await api.client.get(f"/api/v1/stacks/{stack_id}", headers=AUTH)).json()
        assert stack["frame"] == 5 and stack["error"] is None
