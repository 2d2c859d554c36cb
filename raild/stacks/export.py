"""A stack's files for download: one frame, or all of them with the manifest for an archive.

Every file is resolved (symlinks included) and must lie inside the stack's folder.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from raild.files import within
from raild.stacks.errors import FrameNotFound
from raild.stacks.family import SEQUENCE_CSV, ArchiveEntry

if TYPE_CHECKING:
    from raild.stacks.manager import StackManager

Entry = tuple[str, Path | bytes]  # name in the archive, and a file or its bytes


@dataclass(frozen=True)
class ArchiveContents:
    stem: str  # the archive's file name without ".zip": the stack's name made safe, or its id
    entries: list[Entry]


def frame_file(stacks: StackManager, stack_id: str, index: int) -> Path:
    """Frame `index` (1-based) as a file inside the stack's folder; 404 otherwise."""
    path = within(stacks.stack_dir(stack_id), stacks.frame_path(stack_id, index))
    if path is None:
        raise FrameNotFound(f"stack {stack_id} has no frame {index}")
    return path


async def archive_contents(stacks: StackManager, stack_id: str, *, children: bool = False) -> ArchiveContents:
    """The stack's frames and sidecars; with `children`, its extensions too, numbered as one
    sequence in focus order (see `family.archive_layout`)."""
    stack = stacks.get(stack_id)
    # The manager's records are read on the loop thread, where the runner changes them.
    layout, family_csv = stacks.archive_layout(stack_id, children=children)
    sidecar = None if family_csv is None else (f"{stack_id}/{SEQUENCE_CSV}", family_csv)
    entries = await asyncio.to_thread(_entries, layout, sidecar)
    stem = re.sub(r"[^A-Za-z0-9_-]+", "_", stack.name or stack_id).strip("_") or stack_id
    return ArchiveContents(stem, entries)


def _entries(layout: list[ArchiveEntry], sidecar: tuple[str, bytes] | None) -> list[Entry]:
    """Runs in a worker thread: resolving paths and reading the sidecars touch the disk."""
    entries: list[Entry] = []
    for entry in layout:
        path = within(entry.folder, entry.path)
        if path is not None:
            # Sidecars are read now: the runner rewrites them atomically while a stack runs.
            entries.append((entry.name, path.read_bytes() if entry.read_now else path))
    if sidecar is not None:
        entries.append(sidecar)
    return entries
