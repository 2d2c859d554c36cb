"""A time-lapse survives `kill -9`: the daemon is killed during run 2 of 3 and started
again on the same state dir. Run 2 is `interrupted` and holds the series (which says
so); once homed and resumed it completes, run 3 follows and the series completes."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest

from tests.faults.harness import wait_for
from tests.stacks.test_crash import daemon, home
from tests.support.rig import resume_if_the_host_fell_behind

pytestmark = [pytest.mark.timeout(240), pytest.mark.slow]


def test_sigkill_mid_series_then_restart_finishes_the_series(tmp_path: Path, port: int) -> None:
    body = {"start_um": 2500, "end_um": 3100, "frames": 8, "repeat": {"count": 3, "interval_s": 1.0}}
    with daemon(tmp_path, port) as (proc, client):
        home(client)
        reply = client.post("/stacks", json=body)
        assert reply.status_code == 201, reply.text
        first = reply.json()
        series_id = first["series"]["id"]
        assert first["series"]["run"] == 1 and first["series"]["of"] == 3

        def run_two() -> dict | None:
            resume_if_the_host_fell_behind(client, proc)
            for job in client.get("/stacks").json():
                if (job.get("series") or {}).get("run") == 2 and job["frame"] >= 2:
                    return job
            return None

        second = wait_for(run_two, 60, "run 2 to have two frames", proc)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)

    on_disk = json.loads((tmp_path / "state" / "series" / f"{series_id}.json").read_text())
    assert on_disk["state"] == "active" and len(on_disk["started_s"]) == 2

    with daemon(tmp_path, port) as (proc, client):
        job = client.get(f"/stacks/{second['id']}").json()
        assert job["state"] == "interrupted"
        assert job["series"]["id"] == series_id and job["series"]["state"] == "active"
        assert "resume" in job["series"]["waiting"]  # clearly marked: held by run 2
        assert client.get("/status").json()["job"]["id"] == second["id"]
        home(client)
        assert client.post(f"/stacks/{second['id']}/resume").status_code == 200

        def finished() -> list[dict] | None:
            resume_if_the_host_fell_behind(client, proc)
            jobs = [j for j in client.get("/stacks").json() if (j.get("series") or {}).get("id") == series_id]
            return jobs if len(jobs) == 3 and all(j["state"] == "completed" for j in jobs) else None

        jobs = wait_for(finished, 120, "runs 2 and 3 to complete", proc)
        assert sorted(j["series"]["run"] for j in jobs) == [1, 2, 3]
        assert all(j["frame"] == 8 for j in jobs)
        assert jobs[0]["series"]["state"] == "completed"
        frames = client.get(f"/stacks/{second['id']}/frames").json()
        assert [f["index"] for f in frames] == list(range(1, 9))
