"""What a reader of a stack's folder may rely on (docs/internals.md "Write order and
readiness"): the manifest is written last, and `completed` is reported only once on disk."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from raild.events import EventBus
from raild.stacks import store as store_module
from raild.stacks.journal import Journal
from raild.stacks.store import MANIFEST, POSITIONS_CSV, StackStore
from tests.stacks.test_store import add_frame, make_stack


def test_the_manifest_is_written_after_the_sidecar(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = StackStore(tmp_path)
    stack = make_stack()
    store.create(stack)
    written: list[str] = []
    real = store_module.write_atomic

    def recording(dest: Path, data: bytes | memoryview) -> Path:
        written.append(dest.name)
        return real(dest, data)

    monkeypatch.setattr(store_module, "write_atomic", recording)
    add_frame(stack, 1)
    store.save(stack.id, *stack.manifest_parts(), seq=1)
    assert written == [POSITIONS_CSV, MANIFEST]


class DiskAtPublish(EventBus):
    """Looks at the stack's folder at the instant each event is published."""

    def __init__(self, folder: Path) -> None:
        super().__init__()
        self.folder = folder
        self.seen: list[tuple[str, str, list[str]]] = []

    def publish(self, kind: str, data: dict[str, Any]) -> None:
        manifest = json.loads((self.folder / MANIFEST).read_text())
        parts = sorted(p.name for p in self.folder.glob(".*.part"))
        self.seen.append((data["state"], manifest["state"], parts))


async def test_completed_is_published_only_once_on_disk(tmp_path: Path) -> None:
    store = StackStore(tmp_path)
    stack = make_stack(frames=2)
    store.create(stack)
    for index in (1, 2):
        add_frame(stack, index)
    events = DiskAtPublish(store.stack_dir(stack.id))
    journal = Journal(store, events)
    await journal.state_on_disk(stack, "completed")
    assert events.seen == [("completed", "completed", [])]
    assert stack.state == "completed"
    assert (store.stack_dir(stack.id) / POSITIONS_CSV).read_text().count("\n") == 3  # header + 2 frames


async def test_a_state_change_during_the_write_is_not_left_behind_on_disk(tmp_path: Path) -> None:
    """A pause asked while `completed` is being written: the stack ends completed, in
    memory and on disk (the newer write of `pausing` must not be the last one)."""
    store = StackStore(tmp_path)
    stack = make_stack(frames=2)
    store.create(stack)
    add_frame(stack, 1)
    add_frame(stack, 2)
    journal = Journal(store, EventBus())
    finishing = journal.state_on_disk(stack, "completed")
    task = asyncio.ensure_future(finishing)
    await asyncio.sleep(0)  # the completed write is under way in its thread
    journal.state(stack, "pausing")
    await task
    await journal.drain()
    assert stack.state == "completed"
    assert json.loads((store.stack_dir(stack.id) / MANIFEST).read_text())["state"] == "completed"
