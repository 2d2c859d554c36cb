"""Presets over HTTP: CRUD, kept across a restart, used by POST stacks with overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from .helpers import AUTH, Api, home, running_api
from .test_stacks import _wait_job


async def test_crud_and_a_restart_keeps_them(tmp_path: Path) -> None:
    async with running_api(tmp_path) as api:
        r = await api.client.put("/api/v1/presets/ant%20eye", json={"step_um": 20, "settle_ms": 100}, headers=AUTH)
        assert r.status_code == 200, r.text
        assert r.json() == {"name": "ant eye", "step_um": 20, "settle_ms": 100}
        r = await api.client.put("/api/v1/presets/ant%20eye", json={"frames": 5}, headers=AUTH)  # replaced
        assert r.json() == {"name": "ant eye", "frames": 5}
        assert (await api.client.get("/api/v1/presets", headers=AUTH)).json() == [{"name": "ant eye", "frames": 5}]
    async with running_api(tmp_path) as api:
        assert (await api.client.get("/api/v1/presets/ant%20eye", headers=AUTH)).json() == {
            "name": "ant eye",
            "frames": 5,
        }
        assert (await api.client.delete("/api/v1/presets/ant%20eye", headers=AUTH)).status_code == 204
        assert (await api.client.get("/api/v1/presets/ant%20eye", headers=AUTH)).status_code == 404
        assert (await api.client.delete("/api/v1/presets/ant%20eye", headers=AUTH)).status_code == 404
        assert (await api.client.get("/api/v1/presets", headers=AUTH)).json() == []


@pytest.mark.parametrize("name", ["..%2F..%2Fetc", "%2E%2E", "..", ".hidden", "x" * 65, "a%00b"])
async def test_traversal_and_bad_names_are_refused(api: Api, name: str) -> None:
    r = await api.client.put(f"/api/v1/presets/{name}", json={"frames": 3}, headers=AUTH)
    assert r.status_code in (404, 422), (name, r.status_code, r.text)
    assert r.headers["content-type"] == "application/problem+json"
    assert (await api.client.get("/api/v1/presets", headers=AUTH)).json() == []
    assert not any(p.name.startswith("presets") for p in api.state_dir.parent.iterdir())


async def test_bad_preset_bodies_are_422(api: Api) -> None:
    for body in ({"start_um": 0}, {"frames": "3"}, {"repeat": {"count": 1, "interval_s": 1}}, [1], "x"):
        r = await api.client.put("/api/v1/presets/p", json=body, headers=AUTH)
        assert r.status_code == 422, (body, r.text)
        assert r.headers["content-type"] == "application/problem+json"


async def test_a_stack_from_a_preset_with_overrides(api: Api) -> None:
    await home(api)
    r = await api.client.put(
        "/api/v1/presets/quick", json={"step_um": 50, "shots_per_position": 2, "return_to_start": False}, headers=AUTH
    )
    assert r.status_code == 200
    r = await api.client.post(
        "/api/v1/stacks",
        json={"preset": "quick", "start_um": 1000, "end_um": 1200, "shots_per_position": 1},
        headers=AUTH,
    )
    assert r.status_code == 201, r.text
    job = r.json()
    assert job["name"] == "quick"
    assert job["plan"]["step_um"] == 50 and job["plan"]["shots_per_position"] == 1
    assert job["plan"]["return_to_start"] is False and job["frames"] == 5
    await _wait_job(api, job["id"], ("completed",))
    # The preset's step dropped for a frame count.
    r = await api.client.post(
        "/api/v1/stacks",
        json={"preset": "quick", "start_um": 1000, "end_um": 1200, "step_um": None, "frames": 3, "name": "n"},
        headers=AUTH,
    )
    assert r.status_code == 201, r.text
    assert r.json()["frames"] == 6 and r.json()["name"] == "n"
    await _wait_job(api, r.json()["id"], ("completed",))


async def test_an_unknown_preset_is_a_clear_422(api: Api) -> None:
    await home(api)
    r = await api.client.post("/api/v1/stacks", json={"preset": "nope", "start_um": 1000, "end_um": 1100}, headers=AUTH)
    assert r.status_code == 422
    assert r.json()["errors"] == [
        {"field": "preset", "message": "no preset named 'nope'; GET /api/v1/presets lists them"}
    ]
