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

if TYPE_CHECKING:
    from raild.stacks.manager import StackManager

SIDECARS = ("manifest.json", "positions.csv")
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


async def archive_contents(stacks: StackManager, stack_id: str) -> ArchiveContents:
    stack = stacks.get(stack_id)
    # The manager's records are read on the loop thread, where the runner changes them;
    # frames kept on the camera's card have no file here.
    frame_paths = [stacks.frame_path(stack_id, item["index"]) for item in stacks.frames(stack_id) if item.get("name")]
    entries = await asyncio.to_thread(_entries, stack_id, stacks.stack_dir(stack_id), frame_paths)
    stem = re.sub(r"[^A-Za-z0-9_-]+", "_", stack.name or stack_id).strip("_") or stack_id
    return ArchiveContents(stem, entries)


def _entries(stack_id: str, root: Path, frame_paths: list[Path]) -> list[Entry]:
    """Runs in a worker thread: resolving paths and reading the sidecars touch the disk."""
    entries: list[Entry] = []
    for candidate in frame_paths:
        path = within(root, candidate)
        if path is not None:
            entries.append((f"{stack_id}/{path.name}", path))
    for extra in SIDECARS:
        path = within(root, root / extra)
        if path is not None:
            # Read now: the runner rewrites them atomically while a stack runs.
            entries.append((f"{stack_id}/{extra}", path.read_bytes()))
    return entries
