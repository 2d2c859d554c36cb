"""The manager over what is on disk: start-up after a crash, safe paths, list and delete.
(No motion happens here, so no rail or camera is needed.)"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from raild.config import Config
from raild.events import EventBus
from raild.stacks import StackConflict, StackManager, StackNotFound
from raild.stacks.store import StackStore, frame_file_name
from tests.stacks.parked_rail import ParkedRail
from tests.stacks.test_store import add_frame, make_stack


def write_stack(state_dir: Path, state: str, frames: int = 2) -> str:
    store = StackStore(state_dir)
    stack = make_stack(frames=4)
    stack.state = state
    store.create(stack)
    for index in range(1, frames + 1):
        add_frame(stack, index)
        (state_dir / "stacks" / stack.id / frame_file_name(index)).write_bytes(b"\xff\xd8jpeg")
    store.save(stack.id, *stack.manifest_parts(), seq=1)
    return stack.id


async def manager(state_dir: Path) -> StackManager:
    events = EventBus()
    events.bind_loop(asyncio.get_running_loop())
    config = Config()
    m = StackManager(config, state_dir, rail=ParkedRail(config), camera=None, events=events)  # type: ignore[arg-type]
    await m.start()
    return m


@pytest.mark.parametrize("left", ["queued", "running", "pausing", "cancelling"])
async def test_a_stack_left_live_by_a_crash_is_interrupted(tmp_path: Path, left: str) -> None:
    stack_id = write_stack(tmp_path, left)
    m = await manager(tmp_path)
    stack = m.get(stack_id)
    assert stack.state == "interrupted"
    assert stack.error is not None and "home" in stack.error["message"]
    on_disk = json.loads((tmp_path / "stacks" / stack_id / "manifest.json").read_text())
    assert on_disk["state"] == "interrupted"
    assert [f["index"] for f in on_disk["frames"]] == [1, 2]  # every frame kept
    assert m.job_summary() == {"id": stack_id, "state": "interrupted", "frame": 2, "frames": 4, "eta_s": None}
    await m.stop()


async def test_finished_stacks_keep_their_state_and_list_newest_first(tmp_path: Path) -> None:
    ids = [write_stack(tmp_path, s) for s in ("completed", "paused", "cancelled")]
    m = await manager(tmp_path)
    assert [s.id for s in m.list()] == ids[::-1]
    assert [m.get(i).state for i in ids] == ["completed", "paused", "cancelled"]
    assert m.job_summary()["id"] == ids[1]  # the one that can be resumed
    public = m.get(ids[0]).status()
    assert set(public) >= {
        "id",
        "name",
        "state",
        "created_at",
        "plan",
        "frame",
        "frames",
        "eta_s",
        "positions_um",
        "error",
    }
    assert public["positions_um"] == [100.0, 200.0, 300.0, 400.0]
    json.dumps(public)


async def test_frame_paths_stay_inside_the_stack_folder(tmp_path: Path) -> None:
    stack_id = write_stack(tmp_path, "paused")
    m = await manager(tmp_path)
    folder = m.stack_dir(stack_id)
    assert folder == tmp_path / "stacks" / stack_id
    assert m.frame_path(stack_id, 1) == folder / "frame_00001.jpg"
    for bad_id in ("../stacks", "..", stack_id + "/..", "%2e%2e", stack_id.upper() + "X"):
        with pytest.raises(StackNotFound):
            m.frame_path(bad_id, 1)
        with pytest.raises(StackNotFound):
            m.stack_dir(bad_id)
    for bad_index in (0, 3, -1, 10**9):
        with pytest.raises(StackNotFound):
            m.frame_path(stack_id, bad_index)
    # A tampered manifest cannot point a frame outside the folder.
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["frames"][0]["file"] = "../../../etc/passwd"
    (folder / "manifest.json").write_text(json.dumps(manifest))
    again = await manager(tmp_path)
    with pytest.raises(StackNotFound):
        again.frame_path(stack_id, 1)
    assert again.frame_path(stack_id, 2) == folder / "frame_00002.jpg"


async def test_cancel_an_interrupted_stack_and_delete_it(tmp_path: Path) -> None:
    stack_id = write_stack(tmp_path, "running")
    m = await manager(tmp_path)
    assert m.cancel(stack_id).state == "cancelled"
    await m.stop()  # flushes the manifest
    assert json.loads((tmp_path / "stacks" / stack_id / "manifest.json").read_text())["state"] == "cancelled"
    m.delete(stack_id)
    assert not (tmp_path / "stacks" / stack_id).exists()
    with pytest.raises(StackNotFound):
        m.get(stack_id)
    assert m.job_summary() is None


async def test_delete_is_instant_and_its_files_go_soon_after(tmp_path: Path) -> None:
    stack_id = write_stack(tmp_path, "completed")
    m = await manager(tmp_path)
    m.delete(stack_id)
    assert not (tmp_path / "stacks" / stack_id).exists()  # gone from the API's view at once
    await m.stop()  # waits for the files to be removed
    assert list((tmp_path / "stacks").iterdir()) == []
    # A removal a crash cut short is finished at the next start-up.
    leftover = tmp_path / "stacks" / f".deleting-{write_stack(tmp_path, 'completed')}"
    leftover.mkdir()
    (leftover / "frame_00001.jpg").write_bytes(b"x")
    again = await manager(tmp_path)
    assert not leftover.exists() and len(again.list()) == 1


@pytest.mark.parametrize(
    ("state", "command", "after"),
    [
        ("paused", "pause", "paused"),
        ("paused", "cancel", "cancelled"),
        ("failed", "cancel", "cancelled"),
        ("interrupted", "cancel", "cancelled"),
        ("cancelled", "cancel", "cancelled"),
        ("completed", "pause", None),
        ("completed", "cancel", None),
        ("completed", "resume", None),
        ("cancelled", "resume", None),
        ("cancelled", "pause", None),
        ("failed", "pause", None),
    ],
)
async def test_transitions_from_states_at_rest(tmp_path: Path, state: str, command: str, after: str | None) -> None:
    """`None`: refused with 409 and nothing changes (none of these touch the rail)."""
    stack_id = write_stack(tmp_path, "running" if state == "interrupted" else state)
    m = await manager(tmp_path)
    if after is None:
        with pytest.raises(StackConflict) as err:
            getattr(m, command)(stack_id)
        assert err.value.status == 409 and state in str(err.value)
        assert m.get(stack_id).state == state
    else:
        assert getattr(m, command)(stack_id).state == after
    await m.stop()
    on_disk = json.loads((tmp_path / "stacks" / stack_id / "manifest.json").read_text())
    assert on_disk["state"] == (after or state)


async def test_resume_refuses_a_stack_planned_at_another_rail_scale(tmp_path: Path) -> None:
    stack_id = write_stack(tmp_path, "paused")
    events = EventBus()
    events.bind_loop(asyncio.get_running_loop())
    finer = Config().with_overrides(rail={"microsteps": 32})
    m = StackManager(finer, tmp_path, rail=ParkedRail(finer), camera=None, events=events)  # type: ignore[arg-type]
    await m.start()
    with pytest.raises(StackConflict, match="steps per mm changed"):
        m.resume(stack_id)
    assert m.get(stack_id).state == "paused"
