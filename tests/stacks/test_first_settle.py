"""First-shot timing: a longer settle before a run's first frame (after the long move to
the start), the usual settle for the rest; on the virtual rig."""

from __future__ import annotations

import itertools
import time
from pathlib import Path

import pytest

from raild.config import RailConfig
from raild.stacks.estimate import position_times_s
from raild.stacks.geometry import RailGeometry
from raild.stacks.plan import build_plan
from raild.stacks.request import parse_request
from tests.stacks.rigs import rig_config, rig_stack

pytestmark = pytest.mark.timeout(120)


async def test_the_first_frame_settles_longer_than_the_others(tmp_path: Path) -> None:
    async with rig_stack(tmp_path, rig_config(camera={"settle_ms": 20})) as rs:
        await rs.rail.move_to_um(2500)  # already at the start: no long first move
        started_s = time.time()
        stack = rs.stacks.create({"start_um": 2500, "end_um": 2600, "frames": 4, "first_settle_ms": 1200})
        assert stack.plan.first_settle_ms == 1200
        await rs.wait_state(stack.id, "completed")
        times = [stack.frames[i].time_s for i in range(1, 5)]
        assert times[0] - started_s >= 1.2
        gaps = [b - a for a, b in itertools.pairwise(times)]
        # Later frames: a short move, 20 ms settle and the capture; never 1.2 s.
        assert all(g < 1.0 for g in gaps), gaps
        manifest = await rs.manifest(stack.id)
        assert manifest["plan"]["first_settle_ms"] == 1200


async def test_the_first_settle_applies_again_after_a_resume(tmp_path: Path) -> None:
    async with rig_stack(tmp_path, rig_config(camera={"settle_ms": 20})) as rs:
        stack = rs.stacks.create({"start_um": 2500, "end_um": 2800, "frames": 8, "first_settle_ms": 600})
        await rs.wait_frames(stack.id, 3)
        rs.stacks.pause(stack.id)
        await rs.wait_state(stack.id, "paused")
        kept = stack.frame
        rs.stacks.resume(stack.id)
        await rs.wait_state(stack.id, "completed")
        times = [stack.frames[i].time_s for i in range(1, 9)]
        gaps = [b - a for a, b in itertools.pairwise(times)]
        # The gap across the resume holds the first settle; the others do not.
        assert gaps[kept - 1] >= 0.6
        assert all(g < 0.6 for i, g in enumerate(gaps) if i != kept - 1), gaps


def test_the_estimate_counts_the_first_settle_once() -> None:
    geo = RailGeometry.from_config(RailConfig())
    base = {"start_um": 0, "end_um": 100, "frames": 3, "settle_ms": 100}
    plain = build_plan(parse_request(base, default_settle_ms=0, default_shot_interval_ms=0), geo)
    longer = build_plan(
        parse_request({**base, "first_settle_ms": 2100}, default_settle_ms=0, default_shot_interval_ms=0), geo
    )
    a, b = position_times_s(plain, geo, 10), position_times_s(longer, geo, 10)
    assert b[0] - a[0] == pytest.approx(2.0) and a[1:] == b[1:]
