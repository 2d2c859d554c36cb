"""Stacks on disk: `<state_dir>/stacks/<id>/` with manifest.json, positions.csv, frames.

Both metadata files are replaced atomically (temp file, fsync, rename, fsync of the
folder), so a crash or power cut leaves either the old or the new version, never a
torn one. Paths are only ever built from validated ids and indexes, so nothing the
API passes in can point outside the stacks folder.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import threading
from pathlib import Path
from typing import Any

from raild.atomic import leftover_parts, write_atomic
from raild.logs import log_event
from raild.stacks.errors import StackNotFound
from raild.stacks.ids import is_stack_id
from raild.stacks.model import FrameRecord, Stack

log = logging.getLogger("raild.stacks.store")
MANIFEST = "manifest.json"
POSITIONS_CSV = "positions.csv"
CSV_COLUMNS = (
    "index",
    "position_index",
    "shot",
    "position_um",
    "position_steps",
    "time",
    "file",
    "confirmed",
)
TRASH_PREFIX = ".deleting-"  # a deleted stack's folder while its files are removed
FRAME_DIGITS = 5  # 10 000 frames at most: names sort in focus order in any file browser


def frame_file_name(index: int, suffix: str = ".jpg") -> str:
    return f"frame_{index:0{FRAME_DIGITS}d}{suffix}"


def positions_csv(frames: list[FrameRecord]) -> bytes:
    """The sidecar: one row per captured frame, in index order."""
    ordered = sorted(frames, key=lambda f: f.index)
    return (",".join(CSV_COLUMNS) + "\n" + "".join(f.csv_row() for f in ordered)).encode()


def manifest_json(header: dict[str, Any], frames: list[FrameRecord]) -> bytes:
    """`header` with a `frames` list, one frame per line; each frame's text is made once."""
    ordered = sorted(frames, key=lambda f: f.index)
    head = json.dumps(header, indent=1, ensure_ascii=False)
    body = ",\n  ".join(f.json_text() for f in ordered)
    frames_text = f"[\n  {body}\n ]" if ordered else "[]"
    return (head[:-2] + f',\n "frames": {frames_text}\n}}\n').encode()


class StackStore:
    def __init__(self, state_dir: Path) -> None:
        self.root = Path(state_dir) / "stacks"
        # Snapshots may be written from worker threads; a newer one must never be
        # overwritten by an older one that was slower to get here.
        self._lock = threading.Lock()
        self._written_seq: dict[str, int] = {}

    def stack_dir(self, stack_id: str) -> Path:
        if not is_stack_id(stack_id):
            raise StackNotFound(f"{stack_id!r} is not a stack id")
        return self.root / stack_id

    def frame_dest(self, stack_id: str, index: int) -> Path:
        return self.stack_dir(stack_id) / frame_file_name(index)

    def create(self, stack: Stack) -> None:
        """A new folder with the first manifest; on failure (disk full) nothing is left."""
        self.root.mkdir(parents=True, exist_ok=True)
        folder = self.stack_dir(stack.id)
        folder.mkdir()
        try:
            self.save(stack.id, *stack.manifest_parts(), seq=0)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise

    def save(self, stack_id: str, header: dict[str, Any], frames: list[FrameRecord], seq: int) -> None:
        """Write positions.csv then manifest.json; skipped if a newer `seq` is on disk.

        The manifest goes last: it is the commit point. Once it says a state, every write
        of that snapshot has landed (no temp file of it is left), so a reader that waits
        for the manifest never finds the sidecar still being written."""
        folder = self.stack_dir(stack_id)
        with self._lock:
            if seq < self._written_seq.get(stack_id, -1):
                return
            if not folder.is_dir():
                return  # deleted meanwhile
            write_atomic(folder / POSITIONS_CSV, positions_csv(frames))
            write_atomic(folder / MANIFEST, manifest_json(header, frames))
            self._written_seq[stack_id] = seq

    def load_all(self) -> list[Stack]:
        """Every readable stack; an unreadable one is logged and left alone on disk."""
        stacks: list[Stack] = []
        if not self.root.is_dir():
            return stacks
        for folder in sorted(self.root.iterdir()):
            if not is_stack_id(folder.name) or not folder.is_dir():
                continue
            try:
                manifest = json.loads((folder / MANIFEST).read_bytes())
                stack = Stack.from_manifest(manifest)
                if stack.id != folder.name:
                    raise ValueError(f"manifest id {stack.id!r} does not match its folder")
            except (OSError, ValueError, KeyError, TypeError) as exc:
                log_event(log, "stack not loaded", logging.WARNING, folder=str(folder), error=str(exc))
                continue
            stacks.append(stack)
        return stacks

    def delete(self, stack_id: str) -> None:
        shutil.rmtree(self.detach(stack_id))

    def detach(self, stack_id: str) -> Path:
        """Take a stack out of the stacks folder at once (a rename); returns where it went,
        for the slow removal of its files to happen elsewhere (`purge`)."""
        folder = self.stack_dir(stack_id)
        trash = self.root / f"{TRASH_PREFIX}{stack_id}"
        with self._lock:
            self._written_seq.pop(stack_id, None)
            os.rename(folder, trash)
        return trash

    def purge(self) -> None:
        """Finish removals a crash interrupted, and drop the temp files of writes it cut
        short (the finished files they were meant to replace are intact)."""
        if not self.root.is_dir():
            return
        for leftover in self.root.glob(TRASH_PREFIX + "*"):
            shutil.rmtree(leftover, ignore_errors=True)
        for folder in self.root.iterdir():
            if is_stack_id(folder.name) and folder.is_dir():
                for part in leftover_parts(folder):
                    with contextlib.suppress(OSError):
                        part.unlink()
                        log_event(log, "unfinished write removed", file=str(part))

    def leftover_parts(self, stack_id: str) -> list[Path]:
        """Temp files of unfinished writes (none should survive any failure)."""
        return leftover_parts(self.stack_dir(stack_id))
