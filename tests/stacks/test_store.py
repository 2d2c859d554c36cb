"""The on-disk store: atomic manifests, CSV agreeing with them, safe paths, loading."""

from __future__ import annotations

import csv
import io
import json
import os
import time
from pathlib import Path

import pytest

from raild.config import RailConfig
from raild.stacks.errors import StackNotFound
from raild.stacks.geometry import RailGeometry
from raild.stacks.ids import is_stack_id, new_stack_id
from raild.stacks.model import FrameRecord, Stack, iso_utc
from raild.stacks.plan import build_plan
from raild.stacks.request import parse_request
from raild.stacks.store import (
    CSV_COLUMNS,
    MANIFEST,
    POSITIONS_CSV,
    StackStore,
    frame_file_name,
    manifest_json,
    positions_csv,
)

GEO = RailGeometry.from_config(RailConfig())


def make_stack(frames: int = 4) -> Stack:
    req = parse_request(
        {"start_um": 100, "end_um": 400, "frames": frames, "name": "moth"},
        default_settle_ms=0,
        default_shot_interval_ms=0,
    )
    return Stack(id=new_stack_id(), name=req.name, created_at=iso_utc(0), plan=build_plan(req, GEO))


def add_frame(stack: Stack, index: int) -> None:
    pos = stack.plan.position_of(index)
    stack.frames[index] = FrameRecord(
        index=index,
        position_index=pos,
        shot=1,
        position_um=stack.plan.positions_um[pos],
        position_steps=stack.plan.positions_steps[pos],
        time=iso_utc(1.5),
        time_s=1.5,
        file=frame_file_name(index),
        size=10,
        confirmed=True,
    )


def test_ids_are_valid_unique_and_sorted() -> None:
    ids = [new_stack_id() for _ in range(200)]
    assert all(is_stack_id(i) for i in ids)
    assert ids == sorted(ids) and len(set(ids)) == 200
    # Sortable by creation time even within one millisecond or across a clock step back.
    now = time.time()
    a, b = new_stack_id(now_s=now + 0.05), new_stack_id(now_s=now - 60)
    assert a < b
    assert a.startswith(time.strftime("%Y%m%d-", time.gmtime(now + 0.05)))


@pytest.mark.parametrize(
    "bad",
    ["", "..", "../etc", "20261125-193500-123ab/..", "x" * 21, "20261125-193500-123AB", "/tmp", "20261125-193500-123a"],
)
def test_paths_only_come_from_valid_ids(tmp_path: Path, bad: str) -> None:
    store = StackStore(tmp_path)
    with pytest.raises(StackNotFound):
        store.stack_dir(bad)


def test_manifest_and_csv_are_written_and_agree(tmp_path: Path) -> None:
    store = StackStore(tmp_path)
    stack = make_stack()
    store.create(stack)
    for index in (1, 2, 3):
        add_frame(stack, index)
        store.save(stack.id, *stack.manifest_parts(), seq=index)
    folder = tmp_path / "stacks" / stack.id
    manifest = json.loads((folder / MANIFEST).read_text())
    with (folder / POSITIONS_CSV).open() as f:
        rows = list(csv.DictReader(f))
    assert [f["index"] for f in manifest["frames"]] == [1, 2, 3]
    assert [int(r["index"]) for r in rows] == [1, 2, 3]
    for frame, row in zip(manifest["frames"], rows, strict=True):
        assert float(row["position_um"]) == pytest.approx(frame["position_um"])
        assert int(row["position_steps"]) == frame["position_steps"]
        assert row["file"] == frame["file"] and row["confirmed"] == "true"
    assert store.leftover_parts(stack.id) == []


def test_an_older_snapshot_never_overwrites_a_newer_one(tmp_path: Path) -> None:
    store = StackStore(tmp_path)
    stack = make_stack()
    store.create(stack)
    add_frame(stack, 1)
    store.save(stack.id, *stack.manifest_parts(), seq=5)
    stale = make_stack()
    header, frames = stale.manifest_parts()
    store.save(stack.id, {**header, "id": stack.id}, frames, seq=4)
    assert len(json.loads((tmp_path / "stacks" / stack.id / MANIFEST).read_text())["frames"]) == 1


def test_load_all_round_trips_and_skips_broken_folders(tmp_path: Path) -> None:
    store = StackStore(tmp_path)
    stack = make_stack()
    store.create(stack)
    add_frame(stack, 1)
    stack.state = "running"
    store.save(stack.id, *stack.manifest_parts(), seq=1)
    broken = tmp_path / "stacks" / new_stack_id()
    broken.mkdir()
    (broken / MANIFEST).write_text("{not json")
    (tmp_path / "stacks" / "notes.txt").write_text("ignored")
    loaded = StackStore(tmp_path).load_all()
    assert [s.id for s in loaded] == [stack.id]
    again = loaded[0]
    assert again.plan == stack.plan and again.state == "running"
    assert again.frames == stack.frames and again.next_index() == 2


def test_delete_removes_the_folder(tmp_path: Path) -> None:
    store = StackStore(tmp_path)
    stack = make_stack()
    store.create(stack)
    (tmp_path / "stacks" / stack.id / frame_file_name(1)).write_bytes(b"jpeg")
    store.delete(stack.id)
    assert not (tmp_path / "stacks" / stack.id).exists()
    store.save(stack.id, *stack.manifest_parts(), seq=9)  # a late write does not recreate it
    assert not (tmp_path / "stacks" / stack.id).exists()


def test_frame_names_sort_in_focus_order() -> None:
    names = [frame_file_name(i) for i in (1, 2, 10, 100, 9999, 10000)]
    assert names == sorted(names)
    assert names[0] == "frame_00001.jpg"


def test_full_disk_leaves_no_temp_file_and_keeps_the_old_manifest(tmp_path: Path) -> None:
    """A real full file system: a 64 KiB tmpfs (the tests run as root)."""
    mnt = tmp_path / "small"
    mnt.mkdir()
    if os.system(f"mount -t tmpfs -o size=64k tmpfs {mnt} 2>/dev/null") != 0:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    try:
        store = StackStore(mnt)
        stack = make_stack(frames=4)
        store.create(stack)
        (mnt / "filler").write_bytes(b"\0" * 1024)
        with pytest.raises(OSError) as err:
            with (mnt / "filler").open("ab") as f:
                while True:
                    f.write(b"\0" * 4096)
                    f.flush()
        assert err.value.errno == 28
        before = (mnt / "stacks" / stack.id / MANIFEST).read_bytes()
        for index in range(1, 5):
            add_frame(stack, index)
        with pytest.raises(OSError):
            header, frames = stack.manifest_parts()
            store.save(stack.id, header | {"pad": "x" * 8192}, frames, seq=1)
        assert (mnt / "stacks" / stack.id / MANIFEST).read_bytes() == before
        assert store.leftover_parts(stack.id) == []
    finally:
        os.system(f"umount {mnt}")


def test_manifest_text_is_the_plain_json_of_the_stack(tmp_path: Path) -> None:
    stack = make_stack(frames=4)
    for index in (3, 1, 2):  # recorded out of order (a re-shot frame): written in order
        add_frame(stack, index)
    header, frames = stack.manifest_parts()
    assert json.loads(manifest_json(header, frames)) == stack.to_manifest() | {"updated_at": header["updated_at"]}
    rows = list(csv.reader(io.StringIO(positions_csv(frames).decode())))
    assert rows[0] == list(CSV_COLUMNS)
    assert [r[0] for r in rows[1:]] == ["1", "2", "3"]
    assert rows[1] == ["1", "0", "1", "100.0000", "320", iso_utc(1.5), "frame_00001.jpg", "true"]
    empty = make_stack()
    assert json.loads(manifest_json(*empty.manifest_parts()))["frames"] == []


def test_start_up_removes_temp_files_a_crash_left_and_keeps_finished_files(tmp_path: Path) -> None:
    """A SIGKILL between a temp file's creation and its rename leaves `.frame_….part`
    behind; the next start removes it and nothing else."""
    store = StackStore(tmp_path)
    stack = make_stack(frames=4)
    store.create(stack)
    folder = tmp_path / "stacks" / stack.id
    finished = folder / frame_file_name(1)
    finished.write_bytes(b"jpeg")
    cut_short = folder / f".{frame_file_name(2)}.x1y2.part"
    cut_short.write_bytes(b"half a jp")
    assert store.leftover_parts(stack.id) == [cut_short]
    store.purge()
    assert store.leftover_parts(stack.id) == []
    assert finished.read_bytes() == b"jpeg"
    assert (folder / MANIFEST).is_file()
