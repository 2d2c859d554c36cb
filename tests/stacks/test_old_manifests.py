"""Stacks written before plan echo, first-shot timing and time-lapse still load."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from raild.config import Config
from raild.events import EventBus
from raild.stacks import StackManager
from tests.stacks.parked_rail import ParkedRail

# A manifest exactly as the previous release wrote it (version 1, no series, no
# last_step_um or first_settle_ms, step_um the mean spacing).
OLD_MANIFEST = """{
 "version": 1,
 "id": "20260301-101500-123ab",
 "name": "moth wing",
 "created_at": "2026-03-01T10:15:00.123Z",
 "updated_at": "2026-03-01T10:16:02.000Z",
 "state": "paused",
 "error": null,
 "plan": {
  "start_um": 1000.0, "end_um": 1240.0, "step_um": 60.0,
  "requested_step_um": 72.0, "requested_frames": null,
  "positions_steps": [3200, 3430, 3661, 3891, 3968],
  "positions_um": [1000.0, 1071.875, 1144.0625, 1215.9375, 1240.0],
  "settle_ms": 500, "shots_per_position": 1, "shot_interval_ms": 0,
  "return_to_start": true, "warnings": [], "positions": 5, "frames": 5
 },
 "estimate_s": 12.5,
 "camera": {"backend": "sim", "connected": true, "model": "Simulated"},
 "frames": [
  {"index": 1, "position_index": 0, "shot": 1, "position_um": 1000.0, "position_steps": 3200,
   "time": "2026-03-01T10:15:01.000Z", "time_s": 1772360101.0, "file": "frame_00001.jpg",
   "size": 6, "confirmed": true}
 ]
}
"""


async def test_a_manifest_in_the_old_shape_loads_and_shows(tmp_path: Path) -> None:
    folder = tmp_path / "stacks" / "20260301-101500-123ab"
    folder.mkdir(parents=True)
    (folder / "manifest.json").write_text(OLD_MANIFEST)
    (folder / "frame_00001.jpg").write_bytes(b"\xff\xd8jpeg")
    events = EventBus()
    events.bind_loop(asyncio.get_running_loop())
    config = Config()
    m = StackManager(config, tmp_path, rail=ParkedRail(config), camera=None, events=events)  # type: ignore[arg-type]
    await m.start()
    try:
        stack = m.get("20260301-101500-123ab")
        assert stack.state == "paused" and stack.frame == 1 and stack.series is None
        assert stack.plan.last_step_um is None and stack.plan.first_settle == 500
        public = stack.status()
        assert public["series"] is None and public["plan"]["step_um"] == 60.0
        assert "series" not in m.job_summary()
        assert m.frames(stack.id)[0]["name"] == "frame_00001.jpg"
        assert m.cancel(stack.id).state == "cancelled"  # no rail here: no return move
    finally:
        await m.stop()
    rewritten = json.loads((folder / "manifest.json").read_text())
    assert rewritten["state"] == "cancelled" and rewritten["series"] is None
    assert rewritten["plan"]["positions_steps"] == [3200, 3430, 3661, 3891, 3968]
