"""A stack and its extensions as one sequence in focus order (pure).

On disk every stack numbers its own frames 1..N (`frame_00001.jpg`...), so an index
always maps to one file and resuming works as for any stack. A near extension's frames
come before its parent's first in focus order, so no number of its own could sort
right; instead the family is numbered when it is read: every frame of the stack and
of its extensions (and theirs), ordered by carriage position in the stack's own
direction, gets a sequence number 1..N and the name `frame_<sequence>` in the archive.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePath

from raild.stacks.model import FrameRecord, Stack
from raild.stacks.store import FRAME_DIGITS, MANIFEST, POSITIONS_CSV

SEQUENCE_CSV = "sequence.csv"
SEQUENCE_COLUMNS = ("sequence", "name", "stack", "end", "index", "position_um", "position_steps", "shot", "file")


@dataclass(frozen=True)
class FamilyFrame:
    sequence: int | None  # 1-based in focus order; None when the frame has no file here
    name: str | None  # its name in the family archive
    stack_id: str
    end: str | None  # how its stack joined the family: None for the stack asked for
    record: FrameRecord


def descendants(root: Stack, stacks: dict[str, Stack]) -> list[Stack]:
    """The root, then every extension of it and of its extensions, oldest first.
    A parent link that loops (a hand-edited manifest) is followed once."""
    seen = {root.id}
    found: list[Stack] = []
    queue = [root]
    while queue:
        stack = queue.pop(0)
        for child_id in stack.children:
            child = stacks.get(child_id)
            if child is not None and child.id not in seen:
                seen.add(child.id)
                found.append(child)
                queue.append(child)
    return [root, *sorted(found, key=lambda s: s.id)]


def focus_sign(stack: Stack) -> float:
    """+1 when the stack runs towards larger positions, -1 when it runs back."""
    positions = stack.plan.positions_um
    return 1.0 if positions[-1] >= positions[0] else -1.0


def family_frames(members: Sequence[Stack]) -> list[FamilyFrame]:
    """Every captured frame of `members` (the first is the root) in the root's focus order.
    Frames at the same position keep their stack's order (oldest stack first, then index)."""
    root = members[0]
    sign = focus_sign(root)
    rank = {stack.id: n for n, stack in enumerate(members)}
    ends = {stack.id: (None if stack is root else stack.parent_end) for stack in members}
    rows = [(stack.id, record) for stack in members for record in stack.frames.values()]
    rows.sort(key=lambda row: (sign * row[1].position_um, rank[row[0]], row[1].index))
    total = sum(1 for _, record in rows if record.file)
    digits = max(FRAME_DIGITS, len(str(total)))
    out: list[FamilyFrame] = []
    sequence = 0
    for stack_id, record in rows:
        if record.file:
            sequence += 1
            name = f"frame_{sequence:0{digits}d}{PurePath(record.file).suffix}"
            out.append(FamilyFrame(sequence, name, stack_id, ends[stack_id], record))
        else:  # kept on the camera's card: listed, not numbered
            out.append(FamilyFrame(None, None, stack_id, ends[stack_id], record))
    return out


def sequence_csv(frames: Sequence[FamilyFrame]) -> bytes:
    """The family sidecar: which stack, frame and position each archive name is."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(SEQUENCE_COLUMNS)
    for f in frames:
        r = f.record
        writer.writerow(
            [
                "" if f.sequence is None else f.sequence,
                f.name or "",
                f.stack_id,
                f.end or "",
                r.index,
                f"{r.position_um:.4f}",
                r.position_steps,
                r.shot,
                r.file or "",
            ]
        )
    return out.getvalue().encode()


def frame_document(f: FamilyFrame) -> dict[str, object]:
    """One entry of `GET stacks/{id}/frames?children=true`."""
    r = f.record
    return {
        "sequence": f.sequence,
        "sequence_name": f.name,
        "stack": f.stack_id,
        "end": f.end,
        "index": r.index,
        "position_um": r.position_um,
        "name": r.file,
        "size": r.size,
        "confirmed": r.confirmed,
    }


@dataclass(frozen=True)
class ArchiveEntry:
    name: str  # inside the zip
    folder: Path  # the stack folder the file must lie in
    path: Path
    read_now: bool  # a sidecar the runner rewrites while a stack runs: read it at once


def archive_layout(
    members: Sequence[Stack], folder_of: Callable[[str], Path], *, children: bool
) -> tuple[list[ArchiveEntry], bytes | None]:
    """What the archive of `members[0]` holds, in order, and the family sidecar.

    Without children: `<id>/frame_00001.jpg`... as on disk, then the manifest and the
    positions. With children: every family frame as `<id>/frame_<sequence>` in focus
    order, the root's manifest and positions, each extension's manifest and positions
    under `<id>/children/<child id>/`, and (returned apart, for the end) `sequence.csv`.
    """
    root = members[0]
    top = root.id
    entries: list[ArchiveEntry] = []
    sidecar: bytes | None = None
    if children:
        frames = family_frames(members)
        for f in frames:
            file = f.record.file
            if f.name is not None and file is not None and _plain(file):
                folder = folder_of(f.stack_id)
                entries.append(ArchiveEntry(f"{top}/{f.name}", folder, folder / file, False))
        sidecar = sequence_csv(frames)
    else:
        folder = folder_of(top)
        for record in sorted(root.frames.values(), key=lambda r: r.index):
            if record.file is not None and _plain(record.file):
                entries.append(ArchiveEntry(f"{top}/{record.file}", folder, folder / record.file, False))
    for stack in members if children else members[:1]:
        folder = folder_of(stack.id)
        prefix = top if stack is root else f"{top}/children/{stack.id}"
        for extra in (MANIFEST, POSITIONS_CSV):
            entries.append(ArchiveEntry(f"{prefix}/{extra}", folder, folder / extra, True))
    return entries, sidecar


def _plain(file: str | None) -> bool:
    """One visible name inside the stack folder (a manifest is data from disk)."""
    return bool(file) and PurePath(str(file)).name == file and not str(file).startswith(".")
