"""What "nothing lost" means on disk, checked the same way after every fault."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import time
from pathlib import Path
from typing import Any

from PIL import Image


def read_manifest(
    folder: Path, state: str | None = None, settle: bool = False, timeout_s: float = 5.0
) -> dict[str, Any]:
    """The manifest must always be one whole JSON document, whatever happened.

    The manifest is rewritten behind the API (off the event loop). `state`: what the API
    already reports; wait until the manifest says the same and no write is pending.
    `settle`: only wait until no write is pending (the disk may refuse the last one)."""
    deadline = time.monotonic() + timeout_s
    while True:
        manifest = dict(json.loads((folder / "manifest.json").read_text()))
        pending = bool(list(folder.glob(".*.part")))
        settled = (state is None and not settle) or (not pending and (state is None or manifest["state"] == state))
        if settled or time.monotonic() > deadline:
            return manifest
        time.sleep(0.02)


def check_stack_folder(
    folder: Path, manifest: dict[str, Any], interrupted: bool = False, partial_ok: bool = False
) -> list[int]:
    """Frames recorded in the manifest are exactly the frame files on disk, each whole and
    of the recorded size, numbered 1..k without a gap or a repeat; positions.csv agrees.
    Returns the recorded indexes.

    `interrupted`: the process, its hardware or its disk went away mid-stack. A frame's
    file is written before the manifest names it, so one whole file for frame k+1 may be
    on disk unrecorded (it is shot again, over the same name, on resume), and a write cut
    short by SIGKILL may leave its hidden temp file (`partial_ok`); neither is ever listed
    as a frame. positions.csv may then list that frame k+1 too (see docs/reliability.md)."""
    frames = manifest["frames"]
    indexes = [f["index"] for f in frames]
    assert indexes == list(range(1, len(frames) + 1)), f"gap or repeat in {indexes}"
    names = [f["file"] for f in frames]
    assert len(set(names)) == len(names)
    on_disk = sorted(p.name for p in folder.glob("frame_*"))
    extra = sorted(set(on_disk) - set(names))
    if interrupted and extra == [f"frame_{len(frames) + 1:05d}.jpg"]:
        Image.open(io.BytesIO((folder / extra[0]).read_bytes())).verify()
        on_disk.remove(extra[0])
    assert on_disk == sorted(names), f"files {on_disk} but manifest {names}"
    for f in frames:
        data = (folder / f["file"]).read_bytes()
        assert len(data) == f["size"], f
        Image.open(io.BytesIO(data)).verify()  # a whole JPEG, not a torn write
    planned = manifest["plan"]["positions_steps"]
    for f in frames:
        assert f["position_steps"] == planned[f["position_index"]], f
    csv_path = folder / "positions.csv"
    if csv_path.exists():
        rows = [int(r["index"]) for r in csv.DictReader(io.StringIO(csv_path.read_text()))]
        # The sidecar is written just before the manifest (the commit point): a kill between
        # the two leaves it one frame ahead, until the restart rewrites both.
        assert rows == indexes or (interrupted and rows == [*indexes, len(frames) + 1]), (rows, indexes)
    if not interrupted or not partial_ok:
        assert not list(folder.glob(".*.part")), "a temp file of an unfinished write was left"
    return indexes


def digests(folder: Path, manifest: dict[str, Any]) -> dict[int, tuple[str, int]]:
    """Content and inode per frame: a frame shot again is a new file (new inode)."""
    out = {}
    for f in manifest["frames"]:
        path = folder / f["file"]
        out[f["index"]] = (hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_ino)
    return out
