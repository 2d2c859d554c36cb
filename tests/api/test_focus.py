"""Focus routes on the simulated optical camera (its subject spans known depths; all simulated).

The subject: a staircase of textured terraces, in focus from `NEAR_UM` to `NEAR_UM + DEPTH_UM`.
The depth of field the frames show is measured here, independently of raild.focus, with the
simulated camera's own renderer and `raild.camera.focus_measure`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import io
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from raild.camera.focus_measure import luminance, region_sharpness
from raild.camera.render import Optics, Subject, encode_jpeg, render

from .helpers import AUTH, Api, home, running_api, sim_config

NEAR_UM, DEPTH_UM = 3000.0, 2000.0
OPTICS = {"magnification": 4.0, "aperture": 4.0}
SIM = {"image_width": 480, "image_height": 320, "subject_near_um": NEAR_UM, "subject_depth_um": DEPTH_UM, **OPTICS}


def measured_dof_um() -> float:
    """Full width at half maximum of a terrace's sharpness against defocus, from the renderer."""
    subject = Subject(480, 320, DEPTH_UM, 1)
    optics = Optics(OPTICS["magnification"], OPTICS["aperture"])
    region = subject.regions[5]
    offsets = np.arange(-600.0, 601.0, 10.0)
    values = []
    for d in offsets:
        gray = luminance(encode_jpeg(render(subject, optics, region.depth_um + d), 90, "reference"))
        values.append(region_sharpness(gray, region.x0, region.x1, region.y0, region.y1))
    v = np.array(values) / max(values)
    inside = offsets[v >= 0.5]
    return float(inside.max() - inside.min())


@pytest.fixture(scope="module")
def dof_um() -> float:
    return measured_dof_um()


@pytest.fixture
async def optical(tmp_path: Path) -> Any:
    async with running_api(tmp_path, sim_config(sim=SIM)) as api:
        await home(api)
        yield api


async def run_stack(api: Api, **body: Any) -> dict[str, Any]:
    r = await api.client.post("/api/v1/stacks", json=body, headers=AUTH)
    assert r.status_code == 201, r.text
    sid = r.json()["id"]
    deadline = asyncio.get_running_loop().time() + 60
    while (job := (await api.client.get(f"/api/v1/stacks/{sid}", headers=AUTH)).json())["state"] != "completed":
        assert job["state"] in ("queued", "running"), job
        assert asyncio.get_running_loop().time() < deadline, job
        await asyncio.sleep(0.05)
    return job


async def coverage(api: Api, sid: str) -> dict[str, Any]:
    r = await api.client.get(f"/api/v1/stacks/{sid}/coverage", headers=AUTH)
    assert r.status_code == 200, r.text
    return r.json()


def covers_subject(suggest: dict[str, float]) -> bool:
    lo, hi = sorted((suggest["start_um"], suggest["end_um"]))
    return lo <= NEAR_UM and hi >= NEAR_UM + DEPTH_UM


async def test_full_stack_is_complete_and_keeps_up(optical: Api, dof_um: float) -> None:
    step = 0.7 * dof_um
    job = await run_stack(optical, start_um=NEAR_UM - 300, end_um=NEAR_UM + DEPTH_UM + 300, step_um=step)
    cov = await coverage(optical, job["id"])
    assert cov["state"] == "final" and cov["frames_analyzed"] == job["frames"], cov
    assert cov["complete"] and cov["near_end"] == cov["far_end"] == "covered" and cov["gaps"] == [], cov
    assert cov["suggest"] is None
    assert 0.6 * dof_um <= cov["dof_um"] <= 1.5 * dof_um, (cov["dof_um"], dof_um)
    # Analysis never held a frame back: nothing was skipped for lag on this short stack.
    assert optical.daemon.focus.status()["skipped"] == 0


@pytest.mark.parametrize("end", ["near", "far"])
async def test_cut_end_is_flagged_with_a_suggestion_covering_the_subject(optical: Api, dof_um: float, end: str) -> None:
    if end == "near":
        start, stop = NEAR_UM + 500, NEAR_UM + DEPTH_UM + 300
    else:
        start, stop = NEAR_UM - 300, NEAR_UM + DEPTH_UM - 500
    job = await run_stack(optical, start_um=start, end_um=stop, step_um=0.7 * dof_um)
    cov = await coverage(optical, job["id"])
    other = "far" if end == "near" else "near"
    assert cov[f"{end}_end"] == "cut" and cov[f"{other}_end"] == "covered" and not cov["complete"], cov
    assert covers_subject(cov["suggest"]), cov


async def test_step_of_four_dof_leaves_gaps_and_suggests_a_step_near_dof(optical: Api, dof_um: float) -> None:
    job = await run_stack(optical, start_um=NEAR_UM - 300, end_um=NEAR_UM + DEPTH_UM + 300, step_um=4 * dof_um)
    cov = await coverage(optical, job["id"])
    assert cov["gaps"] and not cov["complete"], cov
    assert 0.4 * dof_um <= cov["suggest"]["step_um"] <= 1.3 * dof_um, (cov["suggest"], dof_um)


def vol(jpeg: bytes) -> float:
    """Variance of the Laplacian of the luminance: the usual one-number sharpness of an image."""
    g = np.asarray(Image.open(io.BytesIO(jpeg)).convert("L"), dtype=np.float64)
    lap = g[1:-1, :-2] + g[1:-1, 2:] + g[:-2, 1:-1] + g[2:, 1:-1] - 4 * g[1:-1, 1:-1]
    return float(lap.var())


async def test_preview_is_sharper_than_any_frame_and_depthmap_is_an_image(optical: Api, dof_um: float) -> None:
    job = await run_stack(optical, start_um=NEAR_UM - 300, end_um=NEAR_UM + DEPTH_UM + 300, step_um=0.7 * dof_um)
    sid = job["id"]
    r = await optical.client.get(f"/api/v1/stacks/{sid}/preview", headers=AUTH)
    assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg", r.text
    preview = r.content
    assert max(Image.open(io.BytesIO(preview)).size) <= 1024
    frames = []
    for index in range(1, job["frames"] + 1):
        f = await optical.client.get(f"/api/v1/stacks/{sid}/frames/{index}", headers=AUTH)
        frames.append(vol(f.content))
    assert vol(preview) >= 1.5 * max(frames), (vol(preview), max(frames))
    d = await optical.client.get(f"/api/v1/stacks/{sid}/depthmap", headers=AUTH)
    assert d.status_code == 200 and d.headers["content-type"] == "image/png"
    depth = np.asarray(Image.open(io.BytesIO(d.content)).convert("RGB"))
    assert depth.shape[:2] == Image.open(io.BytesIO(preview)).size[::-1]
    # Near terraces are on the left of the simulated subject: colours change across the frame.
    assert not np.array_equal(depth[:, :40].mean(axis=(0, 1)).round(), depth[:, -40:].mean(axis=(0, 1)).round())
    # Cached on disk with the stack once it finished.
    folder = optical.state_dir / "stacks" / sid / "focus"
    deadline = asyncio.get_running_loop().time() + 10
    while not (folder / "preview.jpg").exists():
        assert asyncio.get_running_loop().time() < deadline
        await asyncio.sleep(0.05)


async def test_preview_needs_two_frames_and_unknown_stack_is_404(optical: Api) -> None:
    job = await run_stack(optical, start_um=NEAR_UM, end_um=NEAR_UM, step_um=100.0)
    assert job["frames"] == 1
    r = await optical.client.get(f"/api/v1/stacks/{job['id']}/preview", headers=AUTH)
    assert r.status_code == 409 and r.headers["content-type"] == "application/problem+json"
    cov = await coverage(optical, job["id"])
    assert cov["state"] == "final" and not cov["complete"] and cov["suggest"] is None
    r = await optical.client.get("/api/v1/stacks/20250101-000000-000aa/coverage", headers=AUTH)
    assert r.status_code == 404


async def test_scan_suggests_the_subject_extent_within_a_dof(optical: Api, dof_um: float) -> None:
    r = await optical.client.post(
        "/api/v1/focus/scan",
        json={"from_um": NEAR_UM - 600, "to_um": NEAR_UM + DEPTH_UM + 600, "samples": 41},
        headers=AUTH,
    )
    assert r.status_code == 202, r.text
    deadline = asyncio.get_running_loop().time() + 60
    while (scan := (await optical.client.get("/api/v1/focus/scan", headers=AUTH)).json())["state"] == "running":
        assert asyncio.get_running_loop().time() < deadline
        await asyncio.sleep(0.05)
    assert scan["state"] == "done", scan
    assert len(scan["samples"]) == 41
    s = scan["suggest"]
    assert NEAR_UM - 2 * dof_um <= s["start_um"] <= NEAR_UM, (s, dof_um)
    assert NEAR_UM + DEPTH_UM <= s["end_um"] <= NEAR_UM + DEPTH_UM + 2 * dof_um, (s, dof_um)


async def test_scan_and_meter_without_live_view_are_503_with_advice(optical: Api) -> None:
    camera = optical.daemon.camera
    camera.capabilities = dataclasses.replace(camera.capabilities, preview=False)
    r = await optical.client.post("/api/v1/focus/scan", json={"from_um": 2000.0, "to_um": 3000.0}, headers=AUTH)
    assert r.status_code == 503 and "test stack" in r.json()["detail"], r.text
    r = await optical.client.get("/api/v1/camera/sharpness", headers=AUTH)
    assert r.status_code == 503


async def test_sharpness_meter_rises_at_focus(optical: Api) -> None:
    readings = {}
    for where in (NEAR_UM - 1500, NEAR_UM + 1000):
        r = await optical.client.post("/api/v1/motion/move", json={"to_um": where, "wait": True}, headers=AUTH)
        assert r.status_code in (200, 202), r.text
        r = await optical.client.get("/api/v1/camera/sharpness", headers=AUTH)
        assert r.status_code == 200, r.text
        readings[where] = r.json()
        assert r.json()["position_um"] == pytest.approx(where, abs=1)
    assert readings[NEAR_UM + 1000]["sharpness"] > 2 * readings[NEAR_UM - 1500]["sharpness"], readings
    tiles = readings[NEAR_UM + 1000]["tiles"]
    assert len(tiles["values"]) == tiles["rows"] and len(tiles["values"][0]) == tiles["cols"]


async def test_extend_a_cut_stack_at_its_near_end(optical: Api, dof_um: float) -> None:
    step = round(0.7 * dof_um, 1)
    parent = await run_stack(optical, start_um=NEAR_UM + 500, end_um=NEAR_UM + DEPTH_UM + 300, step_um=step)
    assert (await coverage(optical, parent["id"]))["near_end"] == "cut"
    r = await optical.client.post(f"/api/v1/stacks/{parent['id']}/extend", json={"end": "near"}, headers=AUTH)
    assert r.status_code == 201, r.text
    child = r.json()
    assert child["extends"] == {"id": parent["id"], "end": "near"}
    positions = child["positions_um"]
    assert positions[-1] == pytest.approx(parent["positions_um"][0] - step, abs=0.5)
    assert positions[0] <= NEAR_UM and positions[1] - positions[0] == pytest.approx(step, abs=0.5)
    r = await optical.client.post(f"/api/v1/stacks/{parent['id']}/extend", json={"end": "far"}, headers=AUTH)
    assert r.status_code == 409  # a stack runs (and the far end is covered)


async def test_motion_stop_ends_a_focus_scan(optical: Api) -> None:
    r = await optical.client.post(
        "/api/v1/focus/scan", json={"from_um": NEAR_UM, "to_um": NEAR_UM + DEPTH_UM, "samples": 400}, headers=AUTH
    )
    assert r.status_code == 202, r.text
    r = await optical.client.post("/api/v1/focus/scan", json={"from_um": NEAR_UM, "to_um": NEAR_UM + 10}, headers=AUTH)
    assert r.status_code == 409  # one scan at a time
    assert (await optical.client.post("/api/v1/motion/stop", headers=AUTH)).status_code == 200
    deadline = asyncio.get_running_loop().time() + 30
    while (scan := (await optical.client.get("/api/v1/focus/scan", headers=AUTH)).json())["state"] == "running":
        assert asyncio.get_running_loop().time() < deadline
        await asyncio.sleep(0.05)
    assert scan["state"] == "failed" and len(scan["samples"]) < 400, scan


async def test_coverage_is_partial_while_a_stack_can_still_grow(optical: Api, dof_um: float) -> None:
    body = {"start_um": NEAR_UM - 300, "end_um": NEAR_UM + DEPTH_UM + 300, "step_um": 0.35 * dof_um}
    r = await optical.client.post("/api/v1/stacks", json=body, headers=AUTH)
    assert r.status_code == 201, r.text
    sid = r.json()["id"]
    deadline = asyncio.get_running_loop().time() + 30
    while (job := (await optical.client.get(f"/api/v1/stacks/{sid}", headers=AUTH)).json())["frame"] < 3:
        assert asyncio.get_running_loop().time() < deadline, job
        await asyncio.sleep(0.02)
    running = await coverage(optical, sid)
    assert running["state"] in ("pending", "partial"), running
    assert (await optical.client.post(f"/api/v1/stacks/{sid}/pause", headers=AUTH)).status_code == 200
    while (job := (await optical.client.get(f"/api/v1/stacks/{sid}", headers=AUTH)).json())["state"] != "paused":
        assert asyncio.get_running_loop().time() < deadline, job
        await asyncio.sleep(0.02)
    paused = await coverage(optical, sid)
    assert paused["state"] == "partial" and paused["frames_analyzed"] == job["frame"], paused
    assert (await optical.client.post(f"/api/v1/stacks/{sid}/cancel", headers=AUTH)).status_code == 200
    while (job := (await optical.client.get(f"/api/v1/stacks/{sid}", headers=AUTH)).json())["state"] != "cancelled":
        assert asyncio.get_running_loop().time() < deadline, job
        await asyncio.sleep(0.02)
    assert (await coverage(optical, sid))["state"] == "final"
