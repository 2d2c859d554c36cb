"""Extensions over the API on the simulated rig (all positions and frames simulated): the
child records its parent across a restart, the parent lists its children, and the
parent's archive with `children=true` is one sequence in the carriage's true focus order.
"""

from __future__ import annotations

import asyncio
import csv
import io
import itertools
import zipfile
from pathlib import Path
from typing import Any

import pytest

from raild.stacks.ids import new_stack_id
from tests.api.helpers import AUTH, Api, home, running_api, sim_config

STEP_UM = 100.0


async def wait_ended(api: Api, sid: str, timeout_s: float = 60.0) -> dict[str, Any]:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while (job := (await api.client.get(f"/api/v1/stacks/{sid}", headers=AUTH)).json())["state"] != "completed":
        assert job["state"] in ("queued", "running"), job
        assert asyncio.get_running_loop().time() < deadline, job
        await asyncio.sleep(0.05)
    return job


def true_positions(api: Api, since: int, sid: str) -> dict[tuple[str, str], float]:
    """Where the simulated carriage really was at each exposure after trigger `since`,
    keyed by (stack, file name): the camera labels its exposures with the file name."""
    captures = [t for t in api.daemon.sim.rail.triggers[since:] if t.kind == "capture"]
    return {(sid, t.label): t.position_um for t in captures}


async def shoot(api: Api, truth: dict[tuple[str, str], float], path: str, body: dict[str, Any]) -> dict[str, Any]:
    since = len(api.daemon.sim.rail.triggers)
    r = await api.client.post(f"/api/v1/{path}", json=body, headers=AUTH)
    assert r.status_code == 201, r.text
    job = await wait_ended(api, r.json()["id"])
    truth.update(true_positions(api, since, job["id"]))
    return job


def check_family_archive(data: bytes, parent: dict[str, Any], truth: dict[tuple[str, str], float], frames: int) -> None:
    sid = parent["id"]
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        names = zf.namelist()
        framed = [n for n in names if n.startswith(f"{sid}/frame_")]
        # Names sort as one continuous sequence, and the zip holds them in that order.
        assert framed == [f"{sid}/frame_{n:05d}.jpg" for n in range(1, frames + 1)]
        rows = list(csv.DictReader(io.StringIO(zf.read(f"{sid}/sequence.csv").decode())))
        by_name = {f"{sid}/{row['name']}": row for row in rows}
        carriage = [truth[(by_name[n]["stack"], by_name[n]["file"])] for n in framed]
        direction = 1.0 if parent["positions_um"][-1] >= parent["positions_um"][0] else -1.0
        steps = [direction * (b - a) for a, b in itertools.pairwise(carriage)]
        assert all(s == pytest.approx(STEP_UM, abs=1.0) for s in steps), carriage  # focus order, no gap
        for child in parent["children"]:
            assert f"{sid}/children/{child}/manifest.json" in names


@pytest.mark.parametrize("direction", [1, -1])
async def test_extensions_join_the_parent_as_one_sequence_across_a_restart(tmp_path: Path, direction: int) -> None:
    truth: dict[tuple[str, str], float] = {}
    lo, hi = (2000.0, 2300.0) if direction > 0 else (2300.0, 2000.0)
    async with running_api(tmp_path, sim_config()) as api:
        await home(api)
        body = {"start_um": lo, "end_um": hi, "step_um": STEP_UM, "name": "moth"}
        parent = await shoot(api, truth, "stacks", body)
        assert parent["parent_id"] is None and parent["children"] == []
        far = await shoot(api, truth, f"stacks/{parent['id']}/extend", {"end": "far", "frames": 2})
        near = await shoot(api, truth, f"stacks/{parent['id']}/extend", {"end": "near", "frames": 3})
        assert (far["parent_id"], far["parent_end"]) == (parent["id"], "far")
        assert near["extends"] == {"id": parent["id"], "end": "near"}
        parent = (await api.client.get(f"/api/v1/stacks/{parent['id']}", headers=AUTH)).json()
        assert parent["children"] == [far["id"], near["id"]]

        # Each end is continued once: further out means extending the extension.
        for sid, end in ((parent["id"], "far"), (near["id"], "far")):
            r = await api.client.post(f"/api/v1/stacks/{sid}/extend", json={"end": end, "frames": 1}, headers=AUTH)
            assert r.status_code == 409, r.text

        # Each stack keeps its own numbering on disk and in its frame list...
        own = (await api.client.get(f"/api/v1/stacks/{near['id']}/frames", headers=AUTH)).json()
        assert [f["index"] for f in own] == [1, 2, 3] and own[0]["name"] == "frame_00001.jpg"
        assert (api.state_dir / "stacks" / near["id"] / "frame_00001.jpg").is_file()
        # ...and the family list numbers them as the archive does, in focus order.
        r = await api.client.get(f"/api/v1/stacks/{parent['id']}/frames?children=true", headers=AUTH)
        family = r.json()
        assert [f["sequence"] for f in family] == list(range(1, 10))
        assert [f["stack"] for f in family] == [near["id"]] * 3 + [parent["id"]] * 4 + [far["id"]] * 2
        carriage = [truth[(f["stack"], f["name"])] for f in family]
        assert carriage == sorted(carriage, reverse=direction < 0)

        r = await api.client.get(f"/api/v1/stacks/{parent['id']}/archive?children=true", headers=AUTH)
        assert r.status_code == 200, r.text
        check_family_archive(r.content, parent, truth, 9)
        with zipfile.ZipFile(io.BytesIO(r.content)) as zf:
            first = zf.read(f"{parent['id']}/frame_00001.jpg")
        # The near end's first exposure opens the sequence, whichever way the rail ran.
        assert first == (api.state_dir / "stacks" / near["id"] / "frame_00001.jpg").read_bytes()
        # Without the parameter the archive is the parent alone, as on disk.
        r = await api.client.get(f"/api/v1/stacks/{parent['id']}/archive", headers=AUTH)
        with zipfile.ZipFile(io.BytesIO(r.content)) as zf:
            assert [n for n in zf.namelist() if "/frame_" in n] == [
                f"{parent['id']}/frame_{n:05d}.jpg" for n in range(1, 5)
            ]
            assert f"{parent['id']}/sequence.csv" not in zf.namelist()

    async with running_api(tmp_path, sim_config()) as api:  # the daemon restarted
        again = (await api.client.get(f"/api/v1/stacks/{parent['id']}", headers=AUTH)).json()
        assert again["children"] == [far["id"], near["id"]]
        child = (await api.client.get(f"/api/v1/stacks/{near['id']}", headers=AUTH)).json()
        assert (child["parent_id"], child["parent_end"]) == (parent["id"], "near")
        r = await api.client.get(f"/api/v1/stacks/{parent['id']}/archive?children=1", headers=AUTH)
        check_family_archive(r.content, again, truth, 9)


async def test_extend_errors(tmp_path: Path) -> None:
    async with running_api(tmp_path, sim_config()) as api:
        await home(api)
        missing = new_stack_id()
        r = await api.client.post(f"/api/v1/stacks/{missing}/extend", json={"end": "far", "frames": 2}, headers=AUTH)
        assert r.status_code == 404, r.text
        body = {"start_um": 2000.0, "end_um": 2500.0, "step_um": STEP_UM, "settle_ms": 300}
        r = await api.client.post("/api/v1/stacks", json=body, headers=AUTH)
        assert r.status_code == 201, r.text
        sid = r.json()["id"]
        r = await api.client.post(f"/api/v1/stacks/{sid}/extend", json={"end": "far", "frames": 2}, headers=AUTH)
        assert r.status_code == 409, r.text
        # The parent's own state, not just "another stack runs".
        assert r.json()["type"].endswith(":stack_conflict") and "once it has stopped" in r.json()["detail"]
        for bad in ({"end": "middle", "frames": 2}, {"end": "far", "frames": 0}, {"frames": 2}):
            r = await api.client.post(f"/api/v1/stacks/{sid}/extend", json=bad, headers=AUTH)
            assert r.status_code == 422, (bad, r.text)
        assert (await api.client.post(f"/api/v1/stacks/{sid}/cancel", headers=AUTH)).status_code == 200
        deadline = asyncio.get_running_loop().time() + 30
        while (job := (await api.client.get(f"/api/v1/stacks/{sid}", headers=AUTH)).json())["state"] != "cancelled":
            assert asyncio.get_running_loop().time() < deadline, job
            await asyncio.sleep(0.05)
        assert job["children"] == []
