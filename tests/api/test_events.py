"""Server-sent events over a real uvicorn socket: snapshot first, changes, keep-alive,
job and fault events, many clients, and clean-up when clients go away."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import httpx

from .helpers import AUTH, Api, LiveApi


async def _events(response: httpx.Response) -> AsyncIterator[tuple[str, str]]:
    """(event name, data) pairs; comments come through as ("comment", text)."""
    name, data = "message", []
    async for line in response.aiter_lines():
        if line.startswith(":"):
            yield "comment", line[1:].strip()
        elif line.startswith("event:"):
            name = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].strip())
        elif line == "" and data:
            yield name, "\n".join(data)
            name, data = "message", []


async def _wait_for_subscribers(api_daemon: object, count: int) -> None:
    for _ in range(200):
        if api_daemon.events.subscriber_count == count:  # type: ignore[attr-defined]
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"subscribers: {api_daemon.events.subscriber_count}, wanted {count}")  # type: ignore[attr-defined]


async def test_snapshot_first_then_only_keepalives_while_idle(api: Api, live_api: LiveApi) -> None:
    api.app.state.sse_keepalive_s = 0.3
    async with httpx.AsyncClient(base_url=live_api.base_url, headers=AUTH, timeout=5) as client:
        async with client.stream("GET", "/api/v1/events") as r:
            assert r.status_code == 200
            assert r.headers["content-type"].startswith("text/event-stream")
            got: list[tuple[str, str]] = []
            async for item in _events(r):
                got.append(item)
                if len(got) == 3:
                    break
    kind, data = got[0]
    assert kind == "status"
    assert json.loads(data) == api.daemon.status()
    assert got[1:] == [("comment", "keep-alive"), ("comment", "keep-alive")]


async def test_changes_job_and_fault_events_and_dedup(api: Api, live_api: LiveApi) -> None:
    bus = api.daemon.events
    before = bus.subscriber_count  # the daemon's own listeners (the focus service)
    async with httpx.AsyncClient(base_url=live_api.base_url, headers=AUTH, timeout=5) as client:
        async with client.stream("GET", "/api/v1/events") as r:
            stream = _events(r)
            assert (await anext(stream))[0] == "status"
            await _wait_for_subscribers(api.daemon, before + 1)
            # An event that changes nothing the status shows is not re-sent as status...
            bus.publish("rail:status", {})
            bus.publish("job:state", {"id": "x", "state": "running"})
            kind, data = await anext(stream)
            assert kind == "job"
            assert json.loads(data) == {"kind": "job:state", "id": "x", "state": "running"}
            bus.publish("rail:fault", {"code": "limit", "message": "min switch tripped"})
            kind, data = await anext(stream)
            assert (kind, json.loads(data)["code"]) == ("fault", "limit")
            # ...but a real change is.
            await api.daemon.camera.close()
            bus.publish("camera:status", {})
            kind, data = await anext(stream)
            assert kind == "status" and json.loads(data)["camera"]["connected"] is False


async def test_many_clients_and_disconnects_are_cleaned_up(api: Api, live_api: LiveApi) -> None:
    clients = 20
    before = api.daemon.events.subscriber_count
    async with httpx.AsyncClient(
        base_url=live_api.base_url, headers=AUTH, timeout=5, limits=httpx.Limits(max_connections=clients)
    ) as client:

        async def one() -> str:
            async with client.stream("GET", "/api/v1/events") as r:
                async for kind, _ in _events(r):
                    return kind
            return ""

        kinds = await asyncio.gather(*(one() for _ in range(clients)))
    assert kinds == ["status"] * clients
    await _wait_for_subscribers(api.daemon, before)


async def test_events_need_auth(api: Api, live_api: LiveApi) -> None:
    before = api.daemon.events.subscriber_count
    async with httpx.AsyncClient(base_url=live_api.base_url, timeout=5) as client:
        r = await client.get("/api/v1/events")
        assert r.status_code == 401
    assert api.daemon.events.subscriber_count == before


async def test_position_updates_stream_while_moving(api: Api, live_api: LiveApi) -> None:
    """Updates flow during a move (their rate is measured by bench/api.py, not here)."""
    from .helpers import home

    await home(api)
    async with httpx.AsyncClient(base_url=live_api.base_url, headers=AUTH, timeout=10) as client:
        async with client.stream("GET", "/api/v1/events") as r:
            stream = _events(r)
            assert (await anext(stream))[0] == "status"
            loop = asyncio.get_running_loop()
            move = await client.post("/api/v1/motion/move", json={"to_um": 4500.0})
            assert move.status_code == 202
            times: list[float] = []
            positions: list[float] = []
            async for kind, data in stream:
                if kind != "status":
                    continue
                status = json.loads(data)
                if status["state"] == "moving":
                    times.append(loop.time())
                    if status["position_um"] is not None:
                        positions.append(status["position_um"])
                elif times:
                    break  # the move is over
    # 3 mm at ≤ 3 mm/s: about a second of motion, seen as a rising series of positions.
    assert len(times) > 5
    assert len(set(positions)) > 5 and positions == sorted(positions)
    assert positions[-1] > positions[0] + 1_000
