"""Stacks routes over the simulated rig: a real (small) stack runs and is downloaded."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import zipfile
from typing import Any

import pytest

from .helpers import AUTH, Api, home

JPEG_MAGIC = b"\xff\xd8\xff"


async def _create(api: Api, **body: Any) -> dict[str, Any]:
    r = await api.client.post("/api/v1/stacks", json=body, headers=AUTH)
    assert r.status_code == 201, r.text
    return r.json()


async def _wait_job(api: Api, sid: str, states: tuple[str, ...], timeout_s: float = 30) -> dict[str, Any]:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        job = (await api.client.get(f"/api/v1/stacks/{sid}", headers=AUTH)).json()
        if job["state"] in states:
            return job
        assert asyncio.get_running_loop().time() < deadline, job
        await asyncio.sleep(0.05)


async def _wait_frames(api: Api, sid: str, count: int, timeout_s: float = 30) -> dict[str, Any]:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        job = (await api.client.get(f"/api/v1/stacks/{sid}", headers=AUTH)).json()
        if job["frame"] >= count:
            return job
        assert asyncio.get_running_loop().time() < deadline, job
        await asyncio.sleep(0.02)


async def test_unhomed_rail_is_409_and_bad_plans_are_422(api: Api) -> None:
    r = await api.client.post("/api/v1/stacks", json={"start_um": 1000, "end_um": 1100, "frames": 3}, headers=AUTH)
    assert r.status_code == 409
    await home(api)
    for body in (
        {"start_um": 1000, "end_um": 1100},
        {"start_um": 1000, "end_um": 1100, "step_um": 0},
        {"start_um": 1000, "end_um": 1100, "frames": 3, "step_um": 10},
        {"start_um": 1000, "end_um": 500_000, "frames": 3},
        {"start_um": 1000, "end_um": 1100, "frames": 100_000},
        {"start_um": 1000, "end_um": 1100, "frames": 3, "colour": "red"},
        {"start_um": 1000, "end_um": 1100, "frames": 2.5},
    ):
        r = await api.client.post("/api/v1/stacks", json=body, headers=AUTH)
        assert r.status_code == 422, (body, r.text)
        assert r.headers["content-type"] == "application/problem+json"


async def test_stack_runs_and_is_downloadable(api: Api) -> None:
    await home(api)
    job = await _create(api, start_um=1000.0, end_um=1200.0, frames=4, name="ant eye #1")
    sid = job["id"]
    assert job["frames"] == 4 and job["name"] == "ant eye #1"
    done = await _wait_job(api, sid, ("completed", "failed"))
    assert done["state"] == "completed" and done["frame"] == 4, done
    assert done["positions_um"] == pytest.approx([1000.0, 1066.67, 1133.33, 1200.0], abs=0.32)  # whole microsteps

    listed = (await api.client.get("/api/v1/stacks", headers=AUTH)).json()
    assert listed[0]["id"] == sid

    frames = (await api.client.get(f"/api/v1/stacks/{sid}/frames", headers=AUTH)).json()
    assert [f["index"] for f in frames] == [1, 2, 3, 4]
    assert all(f["confirmed"] for f in frames)
    # The simulated camera saw the carriage where the rail says the frame was taken.
    triggers = api.daemon.sim.rail.triggers
    assert len([t for t in triggers if "capture" in str(t).lower()]) >= 4

    image = await api.client.get(f"/api/v1/stacks/{sid}/frames/2", headers=AUTH)
    assert image.status_code == 200 and image.headers["content-type"] == "image/jpeg"
    assert image.content.startswith(JPEG_MAGIC) and len(image.content) == frames[1]["size"]
    assert (await api.client.get(f"/api/v1/stacks/{sid}/frames/9", headers=AUTH)).status_code == 404
    assert (await api.client.get(f"/api/v1/stacks/{sid}/frames/0", headers=AUTH)).status_code == 422

    r = await api.client.get(f"/api/v1/stacks/{sid}/archive", headers=AUTH)
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
    assert 'filename="ant_eye_1.zip"' in r.headers["content-disposition"]
    with zipfile.ZipFile(io.BytesIO(r.content)) as zf:
        names = zf.namelist()
        assert names[:4] == [f"{sid}/frame_0000{i}.jpg" for i in range(1, 5)]
        assert zf.read(names[1]) == image.content
        manifest = json.loads(zf.read(f"{sid}/manifest.json"))
        assert manifest["id"] == sid and len(manifest["frames"]) == 4
        rows = list(csv.reader(io.StringIO(zf.read(f"{sid}/positions.csv").decode())))
        assert len(rows) == 5  # header + one per frame

    # A frame file swapped for a symlink out of the stack folder is never served.
    secret = api.state_dir / "secret.txt"
    secret.write_text("not a frame")
    frame3 = api.daemon.stacks.stack_dir(sid) / frames[2]["name"]
    frame3.unlink()
    frame3.symlink_to(secret)
    assert (await api.client.get(f"/api/v1/stacks/{sid}/frames/3", headers=AUTH)).status_code == 404
    r = await api.client.get(f"/api/v1/stacks/{sid}/archive", headers=AUTH)
    with zipfile.ZipFile(io.BytesIO(r.content)) as zf:
        assert f"{sid}/{frames[2]['name']}" not in zf.namelist()
        assert all(zf.read(n) != b"not a frame" for n in zf.namelist())

    assert (await api.client.delete(f"/api/v1/stacks/{sid}", headers=AUTH)).status_code == 204
    assert (await api.client.get(f"/api/v1/stacks/{sid}", headers=AUTH)).status_code == 404


async def test_pause_resume_cancel_and_conflicts(api: Api) -> None:
    await home(api)
    job = await _create(api, start_um=1000.0, end_um=3000.0, frames=40)
    sid = job["id"]
    r = await api.client.post("/api/v1/stacks", json={"start_um": 1000, "end_um": 1100, "frames": 3}, headers=AUTH)
    assert r.status_code == 409  # another stack runs
    assert (await api.client.delete(f"/api/v1/stacks/{sid}", headers=AUTH)).status_code == 409
    r = await api.client.post(f"/api/v1/stacks/{sid}/pause", headers=AUTH)
    assert r.status_code == 200 and r.json()["state"] in ("pausing", "paused")
    paused = await _wait_job(api, sid, ("paused",))
    r = await api.client.post(f"/api/v1/stacks/{sid}/resume", headers=AUTH)
    assert r.status_code == 200 and r.json()["state"] in ("running", "queued")
    r = await api.client.post(f"/api/v1/stacks/{sid}/cancel", headers=AUTH)
    assert r.status_code == 200
    cancelled = await _wait_job(api, sid, ("cancelled",))
    assert cancelled["frame"] >= paused["frame"]
    assert (await api.client.post(f"/api/v1/stacks/{sid}/pause", headers=AUTH)).status_code == 409


async def test_motion_stop_pauses_a_running_stack_and_resume_finishes_it(api: Api) -> None:
    await home(api)
    sid = (await _create(api, start_um=1000.0, end_um=5000.0, frames=20))["id"]
    await _wait_job(api, sid, ("running",))
    await _wait_frames(api, sid, 2)
    r = await api.client.post("/api/v1/motion/stop", headers=AUTH)
    assert r.status_code == 200
    job = await _wait_job(api, sid, ("paused", "cancelled", "failed", "completed"))
    assert job["state"] == "paused", job
    status = (await api.client.get("/api/v1/status", headers=AUTH)).json()
    assert status["state"] == "idle" and status["fault"] is None
    assert status["job"]["state"] == "paused"
    assert (await api.client.post(f"/api/v1/stacks/{sid}/resume", headers=AUTH)).status_code == 200
    done = await _wait_job(api, sid, ("completed", "failed", "paused"))
    assert done["state"] == "completed" and done["frame"] == 20
    frames = (await api.client.get(f"/api/v1/stacks/{sid}/frames", headers=AUTH)).json()
    assert [f["index"] for f in frames] == list(range(1, 21))


async def test_cancel_returns_to_the_start(api: Api) -> None:
    await home(api)
    job = await _create(api, start_um=1000.0, end_um=3000.0, frames=30, return_to_start=True)
    await _wait_frames(api, job["id"], 3)
    assert (await api.client.post(f"/api/v1/stacks/{job['id']}/cancel", headers=AUTH)).status_code == 200
    done = await _wait_job(api, job["id"], ("cancelled", "failed"))
    assert done["state"] == "cancelled" and done["error"] is None
    status = (await api.client.get("/api/v1/status", headers=AUTH)).json()
    assert status["position_um"] == pytest.approx(1000.0, abs=0.32)


@pytest.mark.parametrize("sid", ["nope", "20260101-000000-000zz", "a" * 65, "-x"])
async def test_unknown_or_malformed_ids_are_404(api: Api, sid: str) -> None:
    for method, suffix in (
        ("GET", ""),
        ("GET", "/frames"),
        ("GET", "/frames/1"),
        ("GET", "/archive"),
        ("POST", "/pause"),
        ("POST", "/resume"),
        ("POST", "/cancel"),
        ("DELETE", ""),
    ):
        r = await api.client.request(method, f"/api/v1/stacks/{sid}{suffix}", headers=AUTH)
        assert r.status_code == 404, (sid, method, suffix, r.text)
        assert r.headers["content-type"] == "application/problem+json"


def test_documented_job_states_are_the_stack_layers() -> None:
    from typing import get_args

    from raild.api.routes.stacks import JobState
    from raild.stacks.model import STATES

    assert get_args(JobState) == STATES
