"""Every change to a stack is published as an event and written to its manifest.

Manifests are serialised and written in a worker thread so a long stack's fsyncs never
stall the event loop; each snapshot carries a sequence number so the store drops one
that arrives after a newer one.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from typing import Any

from raild.events import EventBus
from raild.logs import log_event
from raild.stacks.model import FrameRecord, Stack
from raild.stacks.store import StackStore

log = logging.getLogger("raild.stacks")


class Journal:
    def __init__(self, store: StackStore, events: EventBus) -> None:
        self.store = store
        self.events = events
        self._seq = itertools.count(1)
        self._last_seq = 0
        self._background: set[asyncio.Task[None]] = set()

    async def save(self, stack: Stack) -> None:
        """Write the manifest now; raises `OSError` (disk full) to the caller."""
        header, frames = stack.manifest_parts()
        await self._save_parts(stack.id, header, frames)

    async def _save_parts(self, stack_id: str, header: dict[str, Any], frames: list[FrameRecord]) -> int:
        seq = self._last_seq = next(self._seq)
        await asyncio.to_thread(self._write, stack_id, header, frames, seq)
        return seq

    def _write(self, stack_id: str, header: dict[str, Any], frames: list[FrameRecord], seq: int) -> None:
        self.store.save(stack_id, header, frames, seq)

    def save_soon(self, stack: Stack) -> None:
        """Write without waiting (state changes made from synchronous calls)."""
        task = asyncio.get_running_loop().create_task(self._save_logged(stack))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _save_logged(self, stack: Stack) -> None:
        try:
            await self.save(stack)
        except OSError as exc:
            log_event(log, "manifest not written", logging.ERROR, stack=stack.id, error=str(exc))

    def state(self, stack: Stack, state: str, error: dict[str, str] | None = None) -> None:
        """Enter `state` (with its reason, or none), publish it and persist it."""
        self._enter(stack, state, error)
        self.save_soon(stack)

    async def state_on_disk(self, stack: Stack, state: str, error: dict[str, str] | None = None) -> None:
        """Enter `state` once its manifest and positions.csv are written: whoever sees it
        reported (API, events, an archive taken then) finds the folder finished, no temp
        file left. A write the disk refuses is logged and the state entered all the same
        (every frame was recorded by an earlier write)."""
        header, frames = stack.manifest_parts()
        header["state"], header["error"] = state, error
        seq = 0
        try:
            seq = await self._save_parts(stack.id, header, frames)
        except OSError as exc:
            log_event(log, "manifest not written", logging.ERROR, stack=stack.id, error=str(exc))
        changed_meanwhile = self._last_seq != seq  # e.g. a pause asked during the write
        self._enter(stack, state, error)
        if changed_meanwhile:
            self.save_soon(stack)  # the newer write must not be the one left on disk

    def _enter(self, stack: Stack, state: str, error: dict[str, str] | None) -> None:
        stack.state = state
        stack.error = error
        log_event(log, "stack state", stack=stack.id, state=state, error=(error or {}).get("message"))
        self.events.publish("job:state", {**stack.summary(), "error": error})

    def frame(self, stack: Stack, record: FrameRecord) -> None:
        self.events.publish(
            "job:frame",
            {
                "id": stack.id,
                "index": record.index,
                "position_um": record.position_um,
                "position_steps": record.position_steps,
                "name": record.file,
                "confirmed": record.confirmed,
                "frame": stack.frame,
                "frames": stack.total_frames,
                "eta_s": stack.current_eta_s(),
            },
        )

    async def drain(self) -> None:
        while self._background:
            await asyncio.gather(*list(self._background), return_exceptions=True)
