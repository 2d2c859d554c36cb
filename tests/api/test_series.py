"""Stack time-lapse over HTTP: each run its own stack with `series`; cancel ends it."""

from __future__ import annotations

import asyncio
from typing import Any

from .helpers import AUTH, Api, home
from .test_stacks import _wait_job


async def _series_jobs(api: Api, series_id: str, count: int, timeout_s: float = 60) -> list[dict[str, Any]]:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        jobs = [
            j
            for j in (await api.client.get("/api/v1/stacks", headers=AUTH)).json()
            if (j.get("series") or {}).get("id") == series_id
        ]
        if len(jobs) >= count and all(j["state"] in ("completed", "cancelled", "failed") for j in jobs):
            return sorted(jobs, key=lambda j: j["series"]["run"])
        assert asyncio.get_running_loop().time() < deadline, jobs
        await asyncio.sleep(0.05)


async def test_a_two_run_time_lapse_from_a_preset(api: Api) -> None:
    await home(api)
    r = await api.client.put(
        "/api/v1/presets/lapse", json={"frames": 3, "repeat": {"count": 2, "interval_s": 0.5}}, headers=AUTH
    )
    assert r.status_code == 200, r.text
    body = {"preset": "lapse", "start_um": 1000, "end_um": 1100}
    r = await api.client.post("/api/v1/stacks", json=body, headers=AUTH)
    assert r.status_code == 201, r.text
    first = r.json()
    assert first["series"]["run"] == 1 and first["series"]["of"] == 2
    jobs = await _series_jobs(api, first["series"]["id"], 2)
    assert [j["state"] for j in jobs] == ["completed", "completed"]
    assert [j["series"]["run"] for j in jobs] == [1, 2]
    assert jobs[1]["series"]["state"] == "completed"
    assert all(j["name"] == "lapse" for j in jobs)


async def test_cancel_between_runs_over_http(api: Api) -> None:
    await home(api)
    body = {"start_um": 1000, "end_um": 1100, "frames": 2, "repeat": {"count": 5, "interval_s": 300}}
    first = (await api.client.post("/api/v1/stacks", json=body, headers=AUTH)).json()
    await _wait_job(api, first["id"], ("completed",))
    status = (await api.client.get("/api/v1/status", headers=AUTH)).json()
    assert status["job"]["series"]["next_in_s"] > 200
    r = await api.client.post(f"/api/v1/stacks/{first['id']}/cancel", headers=AUTH)
    assert r.status_code == 200 and r.json()["state"] == "completed"
    assert r.json()["series"]["state"] == "cancelled" and r.json()["series"]["next_run_at"] is None


async def test_bad_repeat_is_422(api: Api) -> None:
    await home(api)
    for repeat in ({"count": 1, "interval_s": 1}, {"count": 2}, {"count": 2, "interval_s": -1}, "x"):
        body = {"start_um": 1000, "end_um": 1100, "frames": 2, "repeat": repeat}
        r = await api.client.post("/api/v1/stacks", json=body, headers=AUTH)
        assert r.status_code == 422, (repeat, r.text)
        assert r.json()["errors"][0]["field"].startswith("repeat")


async def test_sse_job_events_carry_the_series_and_the_next_run(api: Api) -> None:
    import json

    import httpx

    from .helpers import serving
    from .test_events import _events

    await home(api)
    async with serving(api) as live, httpx.AsyncClient(base_url=live.base_url, headers=AUTH, timeout=30) as client:
        async with client.stream("GET", "/api/v1/events") as r:
            stream = _events(r)
            assert (await anext(stream))[0] == "status"
            body = {"start_um": 1000, "end_um": 1100, "frames": 2, "repeat": {"count": 3, "interval_s": 120}}
            first = (await api.client.post("/api/v1/stacks", json=body, headers=AUTH)).json()
            seen_run_state = scheduled = None
            async for name, data in stream:
                if name != "job":
                    continue
                event = json.loads(data)
                if event["kind"] == "job:state" and event.get("series"):
                    seen_run_state = event
                if event["kind"] == "job:series" and event["series"]["next_run_at"]:
                    scheduled = event["series"]
                    break
    assert seen_run_state is not None and seen_run_state["series"]["run"] == 1
    assert seen_run_state["series"]["of"] == 3 and seen_run_state["id"] == first["id"]
    assert scheduled["id"] == first["series"]["id"] and 100 < scheduled["next_in_s"] <= 120
    assert scheduled["runs_started"] == 1 and scheduled["state"] == "active"
