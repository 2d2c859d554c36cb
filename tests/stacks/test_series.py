"""Stack time-lapse on the virtual rig: runs spaced by the interval (or back to back when
a run overruns it), cancel ends the series, and a restart picks the series up."""

from __future__ import annotations

import asyncio
import itertools
import time
from pathlib import Path
from typing import Any

import pytest

from raild.events import Event
from raild.stacks.errors import InvalidPlan
from raild.stacks.model import Stack
from raild.stacks.request import parse_request
from tests.stacks.rigs import RigStack, rig_config, rig_stack

pytestmark = pytest.mark.timeout(120)
BODY = {"start_um": 2500, "end_um": 2700, "frames": 3}


def runs(rs: RigStack, series_id: str) -> list[Stack]:
    found = [s for s in rs.stacks.list() if s.series and s.series["id"] == series_id]
    return sorted(found, key=lambda s: s.series["run"])  # type: ignore[index]


async def wait_series(rs: RigStack, series_id: str, *states: str, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while (series := rs.stacks.series.get(series_id)) is None or series.state not in states:
        assert time.monotonic() < deadline, series
        await asyncio.sleep(0.02)


async def wait_run(rs: RigStack, series_id: str, run: int, *states: str, timeout_s: float = 60) -> Stack:
    deadline = time.monotonic() + timeout_s
    while True:
        found = [s for s in runs(rs, series_id) if s.series["run"] == run]  # type: ignore[index]
        if found and found[0].state in states:
            return found[0]
        assert time.monotonic() < deadline, [(s.series, s.state) for s in runs(rs, series_id)]
        await asyncio.sleep(0.01)


def drain(rs: RigStack) -> list[Event]:
    events = []
    while not rs.watch._queue.empty():
        events.append(rs.watch._queue.get_nowait())
    return events


async def test_three_runs_start_an_interval_apart(tmp_path: Path) -> None:
    async with rig_stack(tmp_path) as rs:
        first = rs.stacks.create({**BODY, "repeat": {"count": 3, "interval_s": 2.0}})
        assert first.series is not None and first.series["run"] == 1 and first.series["of"] == 3
        sid = first.series["id"]
        await wait_series(rs, sid, "completed")
        stacks = runs(rs, sid)
        assert [s.series["run"] for s in stacks] == [1, 2, 3]  # type: ignore[index]
        assert [s.state for s in stacks] == ["completed"] * 3
        assert [s.frame for s in stacks] == [3, 3, 3]
        assert len(rs.captures()) == 9
        started = rs.stacks.series.get(sid).started_s  # type: ignore[union-attr]
        gaps = [b - a for a, b in itertools.pairwise(started)]
        # Run k starts T s after run k−1 started; the runs (well under 2 s) did not overrun.
        assert all(2.0 <= g < 3.5 for g in gaps), gaps
        # Each run is planned exactly like the first.
        assert {s.plan.positions_steps for s in stacks} == {first.plan.positions_steps}
        # The events carried the series and, between runs, when the next one is due.
        events = drain(rs)
        scheduled = [e.data["series"] for e in events if e.kind == "job:series" and e.data["series"]["next_run_at"]]
        assert len(scheduled) == 2 and all(v["id"] == sid and v["of"] == 3 for v in scheduled)
        states = [e.data for e in events if e.kind == "job:state" and e.data.get("series")]
        assert {d["series"]["run"] for d in states} == {1, 2, 3}
        assert (await rs.manifest(stacks[1].id))["series"] == {"id": sid, "run": 2, "of": 3}
        public = stacks[2].status()["series"]
        assert public["run"] == 3 and public["state"] == "completed" and public["next_run_at"] is None


async def test_a_run_that_overruns_its_interval_is_followed_at_once(tmp_path: Path) -> None:
    cfg = rig_config(camera={"settle_ms": 400})
    async with rig_stack(tmp_path, cfg) as rs:
        first = rs.stacks.create({**BODY, "repeat": {"count": 2, "interval_s": 0.2}})
        sid = first.series["id"]  # type: ignore[index]
        await wait_series(rs, sid, "completed")
        one, two = runs(rs, sid)
        started = rs.stacks.series.get(sid).started_s  # type: ignore[union-attr]
        last_frame_of_one = max(f.time_s for f in one.frames.values())
        assert started[1] - started[0] > 1.0  # three settles of 0.4 s: well over 0.2 s
        assert last_frame_of_one <= started[1] < last_frame_of_one + 2.0
        assert two.state == "completed" and two.frame == 3


async def test_cancelling_a_run_cancels_the_rest(tmp_path: Path) -> None:
    async with rig_stack(tmp_path) as rs:
        first = rs.stacks.create({**BODY, "frames": 6, "repeat": {"count": 4, "interval_s": 0.5}})
        sid = first.series["id"]  # type: ignore[index]
        second = await wait_run(rs, sid, 2, "running")
        await rs.wait_frames(second.id, 1)
        rs.stacks.cancel(second.id)
        await rs.wait_state(second.id, "cancelled")
        await wait_series(rs, sid, "cancelled")
        assert rs.stacks.series._timers == {}  # nothing left to start run 3
        assert [s.series["run"] for s in runs(rs, sid)] == [1, 2]  # type: ignore[index]
        assert first.state == "completed"


async def test_cancel_between_runs_ends_the_series_and_keeps_the_finished_run(tmp_path: Path) -> None:
    async with rig_stack(tmp_path) as rs:
        first = rs.stacks.create({**BODY, "repeat": {"count": 3, "interval_s": 600}})
        sid = first.series["id"]  # type: ignore[index]
        await rs.wait_state(first.id, "completed")
        view = first.status()["series"]
        assert view["state"] == "active" and 500 < view["next_in_s"] <= 600
        assert rs.stacks.job_summary()["series"]["next_run_at"] is not None
        assert rs.stacks.cancel(first.id).state == "completed"
        assert rs.stacks.series.get(sid).state == "cancelled"  # type: ignore[union-attr]
        assert rs.stacks.series._timers == {}


async def test_a_stopped_run_holds_the_series_until_it_is_resumed(tmp_path: Path) -> None:
    async with rig_stack(tmp_path) as rs:
        first = rs.stacks.create(
            {"start_um": 2500, "end_um": 12_500, "frames": 4, "repeat": {"count": 2, "interval_s": 0}}
        )
        sid = first.series["id"]  # type: ignore[index]
        await rs.wait_frames(first.id, 1)
        await rs.wait_rail("moving")
        await rs.stacks.stop_rail()
        await rs.wait_state(first.id, "paused")
        assert "resume" in first.status()["series"]["waiting"]
        assert len(runs(rs, sid)) == 1
        rs.stacks.resume(first.id)
        await wait_series(rs, sid, "completed")
        assert [s.frame for s in runs(rs, sid)] == [4, 4]


async def test_a_series_waiting_for_its_next_run_survives_a_restart(tmp_path: Path) -> None:
    async with rig_stack(tmp_path) as rs:
        first = rs.stacks.create({**BODY, "repeat": {"count": 2, "interval_s": 3.0}})
        sid = first.series["id"]  # type: ignore[index]
        await rs.wait_state(first.id, "completed")
    async with rig_stack(tmp_path) as rs:
        assert rs.stacks.job_summary()["series"]["id"] == sid  # shown while it waits
        await wait_series(rs, sid, "completed")
        _one, two = runs(rs, sid)
        assert two.state == "completed" and two.frame == 3
        started = rs.stacks.series.get(sid).started_s  # type: ignore[union-attr]
        assert started[1] - started[0] >= 3.0


@pytest.mark.parametrize(
    ("repeat", "field"),
    [
        ({"count": 1, "interval_s": 5}, "repeat.count"),
        ({"count": 1000, "interval_s": 5}, "repeat.count"),
        ({"count": 3, "interval_s": -1}, "repeat.interval_s"),
        ({"count": 3, "interval_s": "5"}, "repeat.interval_s"),
        ({"count": 3}, "repeat.interval_s"),
        ({"count": 3, "interval_s": 5, "every": 2}, "repeat.every"),
        (5, "repeat"),
    ],
)
def test_bad_repeats_are_422(repeat: Any, field: str) -> None:
    with pytest.raises(InvalidPlan) as err:
        parse_request({**BODY, "repeat": repeat}, default_settle_ms=0, default_shot_interval_ms=0)
    assert field in {e["field"] for e in err.value.errors}


def test_a_repeat_is_parsed() -> None:
    req = parse_request(
        {**BODY, "repeat": {"count": 999, "interval_s": 0}}, default_settle_ms=0, default_shot_interval_ms=0
    )
    assert req.repeat is not None and (req.repeat.count, req.repeat.interval_s) == (999, 0.0)
