"""A stack's record: its plan, state, frames and error, and the documents made from it.

One `Stack` object per stack, mutated only on the event-loop thread by the manager
and its runner; the store serialises snapshots of it.
"""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from raild.stacks.ids import is_stack_id
from raild.stacks.plan import Plan

STATES = (
    "queued",
    "running",
    "pausing",
    "paused",
    "cancelling",
    "cancelled",
    "completed",
    "failed",
    "interrupted",
)
# A stack in one of these holds the rail and camera; only one may exist at a time.
ACTIVE_STATES = frozenset({"queued", "running", "pausing", "cancelling"})
RESUMABLE_STATES = frozenset({"paused", "interrupted", "failed"})
# A stack in one of these gains no more frames (paused or interrupted ones still may).
ENDED_STATES = frozenset({"completed", "cancelled", "failed"})
MANIFEST_VERSION = 1
EXTEND_ENDS = ("near", "far")


def iso_utc(time_s: float) -> str:
    return datetime.fromtimestamp(time_s, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class FrameRecord:
    """One captured frame; it exists only once the camera confirmed it (or, for backends
    that cannot confirm, once the shutter fired) and its file, if any, is on disk."""

    index: int  # 1-based, in focus order
    position_index: int  # 0-based index into the plan's positions
    shot: int  # 1-based shot number at that position
    position_um: float
    position_steps: int
    time: str  # ISO 8601 UTC of the exposure
    time_s: float
    file: str | None  # name inside the stack folder, None when the camera keeps it
    size: int | None
    confirmed: bool
    # Serialised forms, made once: a record never changes, and a long stack's manifest is
    # rewritten after every frame.
    _json: str | None = field(default=None, repr=False, compare=False)
    _csv: str | None = field(default=None, repr=False, compare=False)

    def json_text(self) -> str:
        if self._json is None:
            self._json = json.dumps(self.to_dict(), ensure_ascii=False)
        return self._json

    def csv_row(self) -> str:
        if self._csv is None:
            out = io.StringIO()
            csv.writer(out, lineterminator="\n").writerow(
                [
                    self.index,
                    self.position_index,
                    self.shot,
                    f"{self.position_um:.4f}",
                    self.position_steps,
                    self.time,
                    self.file or "",
                    "true" if self.confirmed else "false",
                ]
            )
            self._csv = out.getvalue()
        return self._csv

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "position_index": self.position_index,
            "shot": self.shot,
            "position_um": self.position_um,
            "position_steps": self.position_steps,
            "time": self.time,
            "time_s": self.time_s,
            "file": self.file,
            "size": self.size,
            "confirmed": self.confirmed,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FrameRecord:
        # JSON values are untyped; a field an older manifest lacks reads as None, as it always has.
        fields: dict[str, Any] = {k: data.get(k) for k in cls.__dataclass_fields__ if not k.startswith("_")}
        return cls(**fields)


@dataclass
class Stack:
    id: str
    name: str | None
    created_at: str
    plan: Plan
    state: str = "queued"
    error: dict[str, str] | None = None
    camera: dict[str, Any] = field(default_factory=dict)
    frames: dict[int, FrameRecord] = field(default_factory=dict)
    estimate_s: float = 0.0
    series: dict[str, Any] | None = None  # {"id", "run", "of"} for a run of a time-lapse
    # An extension records the stack it continues and at which end (persisted); the
    # parent's `children` are derived from these by the manager (not persisted).
    parent_id: str | None = None
    parent_end: str | None = None
    children: list[str] = field(default_factory=list, repr=False, compare=False)
    # The series' live state (next run...), set by the manager; not persisted.
    series_view: Callable[[], dict[str, Any] | None] | None = field(default=None, repr=False, compare=False)
    # ETA bookkeeping (not persisted): seconds left when last computed, and when.
    eta_s: float | None = None
    eta_at_s: float = field(default_factory=time.monotonic)
    _plan_dict: dict[str, Any] | None = field(default=None, repr=False, compare=False)

    @property
    def frame(self) -> int:
        """Frames captured so far."""
        return len(self.frames)

    @property
    def total_frames(self) -> int:
        return self.plan.frames

    def next_index(self) -> int:
        """First frame index not yet captured; `total_frames + 1` when none is left."""
        for index in range(1, self.plan.frames + 1):
            if index not in self.frames:
                return index
        return self.plan.frames + 1

    def current_eta_s(self) -> float | None:
        if self.eta_s is None or self.state in ("cancelled", "failed", "interrupted"):
            return None  # nothing is scheduled to happen
        if self.state != "running":
            return round(self.eta_s, 1)
        return round(max(0.0, self.eta_s - (time.monotonic() - self.eta_at_s)), 1)

    def summary(self) -> dict[str, Any]:
        out = {
            "id": self.id,
            "state": self.state,
            "frame": self.frame,
            "frames": self.total_frames,
            "eta_s": self.current_eta_s(),
        }
        if self.series is not None:
            out["series"] = self.series_document()
        return out

    def series_document(self) -> dict[str, Any] | None:
        """`{id, run, of}` plus the series' live state (next run, waiting...) when known."""
        if self.series is None:
            return None
        live = self.series_view() if self.series_view is not None else None
        return {**(live or {}), **self.series}

    def to_public(self) -> dict[str, Any]:
        """The `GET /stacks/{id}` document (API.md)."""
        plan = self.plan.to_dict()
        del plan["positions_um"], plan["positions_steps"]
        plan["estimate_s"] = round(self.estimate_s, 1)
        return {
            "id": self.id,
            "name": self.name,
            "state": self.state,
            "created_at": self.created_at,
            "plan": plan,
            "frame": self.frame,
            "frames": self.total_frames,
            "eta_s": self.current_eta_s(),
            "positions_um": list(self.plan.positions_um),
            "error": self.error,
            "series": self.series_document(),
            **self.family_document(),
        }

    def family_document(self) -> dict[str, Any]:
        """The parent link (`extends` keeps the form the extend reply always had) and children."""
        link = None if self.parent_id is None else {"id": self.parent_id, "end": self.parent_end}
        return {
            "parent_id": self.parent_id,
            "parent_end": self.parent_end,
            "extends": link,
            "children": list(self.children),
        }

    def status(self) -> dict[str, Any]:
        """Every object's plain-dict status (internals.md); for a stack, its API document."""
        return self.to_public()

    def frame_list(self) -> list[dict[str, Any]]:
        """The `GET /stacks/{id}/frames` document, in index (focus) order."""
        return [
            {
                "index": f.index,
                "position_um": f.position_um,
                "name": f.file,
                "size": f.size,
                "confirmed": f.confirmed,
            }
            for f in sorted(self.frames.values(), key=lambda f: f.index)
        ]

    def manifest_parts(self) -> tuple[dict[str, Any], list[FrameRecord]]:
        """A cheap snapshot for the store's writer, taken on the loop thread; frame records
        never change once made, so the list can be serialised later in a worker thread."""
        if self._plan_dict is None:
            self._plan_dict = self.plan.to_dict()
        header = {
            "version": MANIFEST_VERSION,
            "id": self.id,
            "name": self.name,
            "created_at": self.created_at,
            "updated_at": iso_utc(time.time()),
            "state": self.state,
            "error": self.error,
            "plan": self._plan_dict,
            "estimate_s": self.estimate_s,
            "camera": self.camera,
            "series": self.series,
            "parent_id": self.parent_id,
            "parent_end": self.parent_end,
        }
        return header, list(self.frames.values())

    def to_manifest(self) -> dict[str, Any]:
        """The manifest as a dict (what `store.manifest_json` writes, parsed)."""
        return build_manifest(*self.manifest_parts())

    @classmethod
    def from_manifest(cls, data: dict[str, Any]) -> Stack:
        frames = [FrameRecord.from_dict(f) for f in data.get("frames", [])]
        parent_id, parent_end = _parent_ref(data.get("parent_id"), data.get("parent_end"))
        return cls(
            id=data["id"],
            name=data.get("name"),
            created_at=data["created_at"],
            plan=Plan.from_dict(data["plan"]),
            state=data["state"],
            error=data.get("error"),
            camera=data.get("camera") or {},
            frames={f.index: f for f in frames},
            estimate_s=float(data.get("estimate_s") or 0.0),
            series=_series_ref(data.get("series")),  # absent from manifests before time-lapse
            parent_id=parent_id,  # absent from manifests before extensions recorded their parent
            parent_end=parent_end,
        )


def _parent_ref(parent_id: Any, end: Any) -> tuple[str | None, str | None]:
    if not is_stack_id(parent_id) or end not in EXTEND_ENDS:
        return None, None
    return parent_id, str(end)


def _series_ref(value: Any) -> dict[str, Any] | None:
    if not isinstance(value, dict):
        return None
    return {"id": str(value["id"]), "run": int(value["run"]), "of": int(value["of"])}


def build_manifest(header: dict[str, Any], frames: list[FrameRecord]) -> dict[str, Any]:
    return {**header, "frames": [f.to_dict() for f in sorted(frames, key=lambda f: f.index)]}
