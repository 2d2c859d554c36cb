"""Stacks on the virtual rig: frames taken where planned, from the backlash side, in order,
and a stack planned by the optics helper really covers the simulated subject."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from PIL import Image

from raild.camera.focus_measure import luminance, region_sharpness
from raild.camera.render import Optics, Subject, encode_jpeg, render
from raild.stacks.optics import step_um
from tests.stacks.rigs import rig_config, rig_stack

pytestmark = pytest.mark.timeout(120)


def last_step_before(pulses: list, emu_us: int) -> object | None:
    moved = [p for p in pulses if p.outcome == "moved" and p.emu_us <= emu_us]
    return moved[-1] if moved else None


@pytest.mark.parametrize(
    ("start_um", "end_um", "play_um"),
    [(2500.0, 3450.0, 0.0), (3450.0, 2500.0, 0.0), (3450.0, 2500.0, 40.0)],
)
async def test_twenty_frames_where_planned_from_the_backlash_side(
    tmp_path: Path, start_um: float, end_um: float, play_um: float
) -> None:
    """With mechanical play in the virtual rail's screw, a carriage reached from the wrong
    side would sit `play_um` off; approached always from one side, every frame has the
    same offset (the play itself, which homing on the other side cannot see)."""
    async with rig_stack(tmp_path, rig_config(sim={"backlash_um": play_um})) as rs:
        um_per_step = rs.config.rail.um_per_step
        rs.rig.rail.reset_counters()
        stack = rs.stacks.create({"start_um": start_um, "end_um": end_um, "frames": 20})
        assert await rs.wait_state(stack.id, "completed", "failed", "paused") == "completed", stack.error
        plan = stack.plan

        # The rig's own record of each exposure: label, instant, true carriage position.
        captures = rs.captures()
        assert [c.label for c in captures] == [f"frame_{i:05d}.jpg" for i in range(1, 21)]
        pulses = rs.rig.rail.pulse_log
        offsets = [c.position_um - planned for c, planned in zip(captures, plan.positions_um, strict=True)]
        assert max(offsets) - min(offsets) <= um_per_step, offsets  # spacing exactly as planned
        assert abs(offsets[0] + play_um) <= um_per_step, offsets
        for capture in captures:
            # The carriage last moved towards +: every position approached from the backlash side.
            last = last_step_before(pulses, capture.emu_us)
            assert last is not None and last.direction == 1, (capture, last)
        assert [c.time_s for c in captures] == sorted(c.time_s for c in captures)
        assert rs.rig.rail.lost_steps == 0

        # Frames on disk in focus order, manifest and CSV agreeing with each other and the plan.
        folder = rs.stacks.stack_dir(stack.id)
        manifest = await rs.manifest(stack.id)
        assert manifest["state"] == "completed"
        frames = manifest["frames"]
        assert [f["index"] for f in frames] == list(range(1, 21))
        assert sorted(p.name for p in folder.glob("frame_*")) == [f["file"] for f in frames]
        for f, capture in zip(frames, captures, strict=True):
            assert f["confirmed"] is True
            assert f["position_steps"] == plan.positions_steps[f["index"] - 1]
            assert abs(f["time_s"] - capture.time_s) < 0.5
            data = (folder / f["file"]).read_bytes()
            assert len(data) == f["size"]
            Image.open(io.BytesIO(data)).verify()
        rows = list(csv.DictReader((folder / "positions.csv").open()))
        assert [int(r["index"]) for r in rows] == [f["index"] for f in frames]
        assert [r["file"] for r in rows] == [f["file"] for f in frames]
        assert [int(r["position_steps"]) for r in rows] == [f["position_steps"] for f in frames]
        for r, f in zip(rows, frames, strict=True):
            assert float(r["position_um"]) == pytest.approx(f["position_um"], abs=1e-3)

        # Returned to the start, and the events told the story in order.
        assert rs.rail.position_steps == plan.positions_steps[0]
        events = []
        while (e := await rs.watch.get(0.05)) is not None:
            if e.kind.startswith("job:"):
                events.append((e.kind, e.data.get("state") if e.kind == "job:state" else e.data["index"]))
        assert events[0] == ("job:state", "queued") and events[-1] == ("job:state", "completed")
        assert [v for k, v in events if k == "job:frame"] == list(range(1, 21))
        assert rs.stacks.job_summary() == {
            "id": stack.id,
            "state": "completed",
            "frame": 20,
            "frames": 20,
            "eta_s": 0.0,
        }


def terrace_sharpness(jpeg: bytes, subject: Subject) -> list[float]:
    gray = luminance(jpeg)
    return [region_sharpness(gray, r.x0, r.x1, r.y0, r.y1) for r in subject.regions]


@pytest.mark.parametrize(("step_factor", "covered"), [(1.0, True), (4.0, False)])
async def test_optics_step_covers_every_depth_slice(tmp_path: Path, step_factor: float, covered: bool) -> None:
    """Each terrace of the synthetic subject must be (almost) as sharp in its best frame as
    in a frame focused exactly on it; a step four times too coarse must leave gaps, which
    shows the measure can fail."""
    cfg = rig_config(sim={"subject_depth_um": 600.0})
    sim = cfg.sim
    dof, step = step_um(sim.magnification, sim.aperture)
    async with rig_stack(tmp_path, cfg) as rs:
        quality = rs.camera._settings.jpeg_quality
        stack = rs.stacks.create(
            {
                "start_um": sim.subject_near_um,
                "end_um": sim.subject_near_um + sim.subject_depth_um,
                "step_um": step * step_factor,
                "settle_ms": 0,
            }
        )
        assert await rs.wait_state(stack.id, "completed", "failed", "paused") == "completed"
        folder = rs.stacks.stack_dir(stack.id)
        subject = rs.camera.subject
        per_frame = [terrace_sharpness((folder / f["name"]).read_bytes(), subject) for f in rs.stacks.frames(stack.id)]
    optics = Optics(sim.magnification, sim.aperture)
    ratios = []
    for region in subject.regions:
        ideal = terrace_sharpness(encode_jpeg(render(subject, optics, region.depth_um), quality, ""), subject)[
            region.index
        ]
        best = max(frame[region.index] for frame in per_frame)
        ratios.append(best / ideal)
    assert dof > step
    if covered:
        assert min(ratios) >= 0.97, ratios
    else:
        assert min(ratios) < 0.97, ratios
