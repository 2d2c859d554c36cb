"""A stack and its extensions: the parent link on disk, children, one sequence in focus order."""

from __future__ import annotations

import asyncio
import csv
import io
import itertools
import json
from pathlib import Path

import pytest

from raild.config import Config
from raild.events import EventBus
from raild.stacks import InvalidPlan, StackConflict, StackManager, StackNotFound
from raild.stacks.family import archive_layout, descendants, family_frames, sequence_csv
from raild.stacks.ids import new_stack_id
from raild.stacks.model import FrameRecord, Stack, iso_utc
from raild.stacks.plan import build_plan
from raild.stacks.request import parse_request
from raild.stacks.store import StackStore, frame_file_name
from tests.stacks.parked_rail import ParkedRail
from tests.stacks.test_store import GEO


def planned(start_um: float, end_um: float, frames: int, shots: int = 1) -> Stack:
    req = parse_request(
        {"start_um": start_um, "end_um": end_um, "frames": frames, "shots_per_position": shots},
        default_settle_ms=0,
        default_shot_interval_ms=0,
    )
    return Stack(id=new_stack_id(), name=None, created_at=iso_utc(0), plan=build_plan(req, GEO))


def shoot(stack: Stack, state: str = "completed") -> Stack:
    """Every planned frame captured, as the runner records them."""
    plan = stack.plan
    for index in range(1, plan.frames + 1):
        pos = plan.position_of(index)
        stack.frames[index] = FrameRecord(
            index=index,
            position_index=pos,
            shot=plan.shot_of(index),
            position_um=plan.positions_um[pos],
            position_steps=plan.positions_steps[pos],
            time=iso_utc(2.0),
            time_s=2.0,
            file=frame_file_name(index),
            size=4,
            confirmed=True,
        )
    stack.state = state
    return stack


def child_of(parent: Stack, end: str, start_um: float, end_um: float, frames: int) -> Stack:
    child = planned(start_um, end_um, frames)
    child.parent_id, child.parent_end = parent.id, end
    parent.children.append(child.id)
    return shoot(child)


@pytest.mark.parametrize("direction", [1, -1])
def test_the_family_is_one_sequence_in_focus_order(direction: int) -> None:
    # Parent 1000→1300 (or back); far and near extensions continue it one step apart.
    lo, hi = (1000.0, 1300.0) if direction > 0 else (1300.0, 1000.0)
    parent = shoot(planned(lo, hi, 4))
    far = child_of(parent, "far", hi + 100 * direction, hi + 200 * direction, 2)
    near = child_of(parent, "near", lo - 300 * direction, lo - 100 * direction, 3)
    members = descendants(parent, {s.id: s for s in (parent, far, near)})
    assert [s.id for s in members] == [parent.id, far.id, near.id]
    frames = family_frames(members)
    assert [f.sequence for f in frames] == list(range(1, 10))
    assert [f.name for f in frames] == [f"frame_{n:05d}.jpg" for n in range(1, 10)]
    positions = [direction * f.record.position_um for f in frames]
    assert positions == sorted(positions) and len(set(positions)) == 9
    steps = {round(b - a) for a, b in itertools.pairwise(positions)}
    assert steps == {100}  # evenly spaced across both joins
    assert [f.stack_id for f in frames] == [near.id] * 3 + [parent.id] * 4 + [far.id] * 2
    assert [f.end for f in frames[:3]] == ["near"] * 3 and frames[3].end is None
    rows = list(csv.DictReader(io.StringIO(sequence_csv(frames).decode())))
    assert [(r["name"], r["stack"], int(r["index"])) for r in rows] == [
        (f.name, f.stack_id, f.record.index) for f in frames
    ]


def test_shots_at_one_position_stay_together_and_grandchildren_join() -> None:
    parent = shoot(planned(1000.0, 1200.0, 3, shots=2))
    far = child_of(parent, "far", 1300.0, 1400.0, 2)
    further = child_of(far, "far", 1500.0, 1600.0, 2)
    frames = family_frames(descendants(parent, {s.id: s for s in (parent, far, further)}))
    assert [(f.record.position_um, f.record.shot) for f in frames[:6]] == [
        (pytest.approx(p), s) for p in (1000.0, 1100.0, 1200.0) for s in (1, 2)
    ]
    assert [f.stack_id for f in frames[6:]] == [far.id, far.id, further.id, further.id]
    assert [f.sequence for f in frames] == list(range(1, 11))


def test_archive_layout_without_children_is_the_stack_as_on_disk(tmp_path: Path) -> None:
    parent = shoot(planned(1000.0, 1300.0, 4))
    near = child_of(parent, "near", 700.0, 900.0, 3)
    plain, sidecar = archive_layout([parent], lambda sid: tmp_path / sid, children=False)
    assert sidecar is None
    assert [e.name for e in plain] == [f"{parent.id}/{frame_file_name(i)}" for i in range(1, 5)] + [
        f"{parent.id}/manifest.json",
        f"{parent.id}/positions.csv",
    ]
    family, sidecar = archive_layout([parent, near], lambda sid: tmp_path / sid, children=True)
    assert sidecar is not None and sidecar.startswith(b"sequence,")
    names = [e.name for e in family]
    assert names[:7] == [f"{parent.id}/frame_{n:05d}.jpg" for n in range(1, 8)]
    # The near child's frame 1 is the family's first; the parent's frame 1 is the fourth.
    assert family[0].path == tmp_path / near.id / frame_file_name(1)
    assert family[3].path == tmp_path / parent.id / frame_file_name(1)
    assert names[7:] == [
        f"{parent.id}/manifest.json",
        f"{parent.id}/positions.csv",
        f"{parent.id}/children/{near.id}/manifest.json",
        f"{parent.id}/children/{near.id}/positions.csv",
    ]


def test_a_frame_name_from_disk_never_leaves_the_folder(tmp_path: Path) -> None:
    parent = shoot(planned(1000.0, 1300.0, 4))
    parent.frames[2].file = "../elsewhere.jpg"
    parent.frames[3].file = ".manifest.json.part"
    entries, _ = archive_layout([parent], lambda sid: tmp_path / sid, children=True)
    assert {e.path.name for e in entries} >= {frame_file_name(1), frame_file_name(4)}
    assert not any(e.path.name in ("elsewhere.jpg", ".manifest.json.part") for e in entries)


async def manager(state_dir: Path) -> StackManager:
    events = EventBus()
    events.bind_loop(asyncio.get_running_loop())
    config = Config()
    m = StackManager(config, state_dir, rail=ParkedRail(config), camera=None, events=events)  # type: ignore[arg-type]
    await m.start()
    return m


async def test_the_parent_link_is_on_disk_and_children_are_rebuilt(tmp_path: Path) -> None:
    store = StackStore(tmp_path)
    parent = shoot(planned(1000.0, 1300.0, 4))
    far = child_of(parent, "far", 1400.0, 1500.0, 2)
    near = child_of(parent, "near", 700.0, 900.0, 3)
    for stack in (parent, far, near):
        store.create(stack)
    on_disk = json.loads((tmp_path / "stacks" / far.id / "manifest.json").read_text())
    assert (on_disk["parent_id"], on_disk["parent_end"]) == (parent.id, "far")
    assert "children" not in json.loads((tmp_path / "stacks" / parent.id / "manifest.json").read_text())

    m = await manager(tmp_path)
    doc = m.get(parent.id).to_public()
    assert doc["children"] == [far.id, near.id] and doc["parent_id"] is None and doc["extends"] is None
    child = m.get(near.id).to_public()
    assert (child["parent_id"], child["parent_end"]) == (parent.id, "near")
    assert child["extends"] == {"id": parent.id, "end": "near"} and child["children"] == []
    listed = m.family_frames(parent.id)
    assert [f["sequence"] for f in listed] == list(range(1, 10))
    assert [f["stack"] for f in listed[:3]] == [near.id] * 3

    m.delete(far.id)
    assert m.get(parent.id).children == [near.id]
    await m.stop()


async def test_extending_needs_a_stopped_parent_and_a_known_end(tmp_path: Path) -> None:
    store = StackStore(tmp_path)
    parent = shoot(planned(1000.0, 1300.0, 4))
    store.create(parent)
    m = await manager(tmp_path)
    with pytest.raises(StackNotFound):
        m.extendable(new_stack_id(), "far")
    with pytest.raises(StackNotFound):
        m.extendable("../etc", "far")
    assert m.extendable(parent.id, "far") is m.get(parent.id)
    for state in ("queued", "running", "pausing", "cancelling"):
        m.get(parent.id).state = state
        with pytest.raises(StackConflict, match="once it has stopped"):
            m.extendable(parent.id, "near")
        with pytest.raises(StackConflict):
            m.create({"start_um": 1400, "end_um": 1500, "frames": 2}, extends=(parent.id, "far"))
    m.get(parent.id).state = "completed"
    with pytest.raises(InvalidPlan):
        m.create({"start_um": 1400, "end_um": 1500, "frames": 2}, extends=(parent.id, "middle"))
    assert m.get(parent.id).children == []
    await m.stop()


async def test_a_damaged_parent_link_is_dropped_not_fatal(tmp_path: Path) -> None:
    store = StackStore(tmp_path)
    parent = shoot(planned(1000.0, 1300.0, 4))
    odd = shoot(planned(1400.0, 1500.0, 2))
    odd.parent_id, odd.parent_end = parent.id, "sideways"
    loop = shoot(planned(1600.0, 1700.0, 2))
    loop.parent_id, loop.parent_end = loop.id, "far"  # itself
    for stack in (parent, odd, loop):
        store.create(stack)
    m = await manager(tmp_path)
    assert m.get(odd.id).parent_id is None and m.get(parent.id).children == []
    assert m.get(loop.id).children == []
    assert [f["stack"] for f in m.family_frames(loop.id)] == [loop.id] * 2
    await m.stop()


async def test_an_end_already_continued_is_not_extended_twice(tmp_path: Path) -> None:
    store = StackStore(tmp_path)
    parent = shoot(planned(1000.0, 1300.0, 4))
    near = child_of(parent, "near", 700.0, 900.0, 3)
    far = child_of(parent, "far", 1400.0, 1500.0, 2)
    far.frames.clear()  # cancelled before its first frame: the far end is still open
    far.state = "cancelled"
    for stack in (parent, near, far):
        store.create(stack)
    m = await manager(tmp_path)
    with pytest.raises(StackConflict, match=f"by stack {near.id}"):
        m.extendable(parent.id, "near")
    assert m.extendable(parent.id, "far").id == parent.id
    with pytest.raises(StackConflict, match="joins the stack it extends"):
        m.extendable(near.id, "far")  # that is where the parent is
    assert m.extendable(near.id, "near").id == near.id  # further out: a grandchild
    m.delete(parent.id)
    assert m.extendable(near.id, "far").id == near.id  # nothing is there any more
    assert m.get(near.id).parent_id == parent.id  # the link is kept, as history
    await m.stop()
