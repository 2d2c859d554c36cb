"""Stacks over HTTP: the plan echoes what was asked; distance from here; one set of rules."""

from __future__ import annotations

from typing import Any

import pytest

from .helpers import AUTH, Api, home
from .test_stacks import _wait_job


async def _post(api: Api, body: Any) -> Any:
    return await api.client.post("/api/v1/stacks", json=body, headers=AUTH)


async def test_plan_echoes_the_step_and_names_the_short_last_step(api: Api) -> None:
    await home(api)
    r = await _post(api, {"start_um": 1000, "end_um": 1240, "step_um": 72})
    assert r.status_code == 201, r.text
    job = r.json()
    assert job["plan"]["step_um"] == 72
    assert job["plan"]["last_step_um"] == pytest.approx(24, abs=0.32)
    assert job["frames"] == 5
    await _wait_job(api, job["id"], ("completed",))


async def test_a_step_larger_than_the_range_is_a_422_saying_so(api: Api) -> None:
    await home(api)
    r = await _post(api, {"start_um": 1000, "end_um": 1050, "step_um": 72})
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    problem = r.json()
    assert problem["errors"][0]["field"] == "step_um"
    assert "larger than the whole range" in problem["errors"][0]["message"]


@pytest.mark.parametrize(("direction", "sign"), [("+", 1), ("-", -1)])
async def test_distance_from_here(api: Api, direction: str, sign: int) -> None:
    await home(api)
    r = await api.client.post("/api/v1/motion/move", json={"to_um": 2000, "wait": True}, headers=AUTH)
    assert r.status_code == 200, r.text
    here = (await api.client.get("/api/v1/status", headers=AUTH)).json()["position_um"]
    r = await _post(api, {"distance_um": 300, "step_um": 100, "direction": direction, "return_to_start": False})
    assert r.status_code == 201, r.text
    job = r.json()
    assert job["positions_um"][0] == pytest.approx(here)
    assert job["positions_um"][-1] == pytest.approx(here + sign * 300, abs=0.32)
    assert job["frames"] == 4
    done = await _wait_job(api, job["id"], ("completed", "failed"))
    assert done["state"] == "completed"
    status = (await api.client.get("/api/v1/status", headers=AUTH)).json()
    assert status["position_um"] == pytest.approx(here + sign * 300, abs=0.32)


async def test_frames_and_step_count_from_the_start(api: Api) -> None:
    await home(api)
    r = await _post(api, {"start_um": 1500, "frames": 4, "step_um": 50})
    assert r.status_code == 201, r.text
    assert r.json()["positions_um"] == pytest.approx([1500, 1550, 1600, 1650], abs=0.32)
    await _wait_job(api, r.json()["id"], ("completed",))


@pytest.mark.parametrize(
    "body",
    [
        {"distance_um": 100, "step_um": 10},
        {"distance_um": 100, "step_um": 10, "direction": "sideways"},
        {"start_um": 1000, "end_um": 1100, "frames": 3, "first_settle_ms": -1},
        {"start_um": 1000, "end_um": 1100, "frames": 3, "first_settle_ms": "5"},
        {"start_um": 1000, "end_um": 1100, "frames": 3, "start_um_": 1},
        [1, 2],
        "text",
    ],
)
async def test_bad_bodies_are_problems_from_the_stack_layer(api: Api, body: Any) -> None:
    await home(api)
    r = await _post(api, body)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"


async def test_the_documented_body_schema_is_the_stack_layers(api: Api) -> None:
    spec = (await api.client.get("/openapi.json")).json()
    body = spec["paths"]["/api/v1/stacks"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    from raild.stacks.request import FIELDS, MAX_FRAMES

    assert set(body["properties"]) == {*FIELDS, "preset"}
    assert body["properties"]["frames"]["maximum"] == MAX_FRAMES
    assert body["additionalProperties"] is False
