"""Presets: named stack setups (step, frames, settle, shots, time-lapse...) without a place.

Kept in one file, `<state_dir>/presets.json`, replaced atomically on every change (a
crash leaves the old or the new set, never a torn one); the in-memory set changes
only once the file is written. Names are validated and never become paths. Fields are
checked by the very rules of a stack body (`request.check_fields`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from raild.atomic import write_atomic
from raild.logs import log_event
from raild.stacks.errors import InvalidPlan, StackNotFound, StorageFull
from raild.stacks.request import FIELDS, PLACE_FIELDS, body_schema, check_fields

log = logging.getLogger("raild.stacks.presets")
PRESETS_FILE = "presets.json"
MAX_NAME_CHARS = 64
MAX_PRESETS = 500
# Letters, digits, space, dot, dash, underscore; starts with a letter or digit.
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._-]*")
# A stack started from a preset is named after it unless the body names it.
PRESET_FIELDS = tuple(f for f in FIELDS if f not in (*PLACE_FIELDS, "name"))
VERSION = 1


def preset_schema() -> dict[str, Any]:
    """JSON Schema of a preset's fields: the stack body's, less where it goes and its name."""
    schema = body_schema()
    return {**schema, "properties": {k: v for k, v in schema["properties"].items() if k in PRESET_FIELDS}}


class PresetNotFound(StackNotFound):
    """No preset with that name."""


def check_name(name: object) -> str:
    """A preset's name, or `InvalidPlan` (422) saying what a name may be."""
    ok = (
        isinstance(name, str)
        and len(name) <= MAX_NAME_CHARS
        and NAME_PATTERN.fullmatch(name) is not None
        and ".." not in name
        and name == name.strip()
    )
    if not ok or not isinstance(name, str):  # the isinstance narrows name for the return
        raise InvalidPlan(
            [
                {
                    "field": "name",
                    "message": f"a preset name is 1 to {MAX_NAME_CHARS} letters, digits, spaces, '.', '-' or '_', "
                    f"starting with a letter or digit, without '..' (got {name!r})",
                }
            ]
        )
    return name


def check_preset(fields: object, name: str | None = None) -> dict[str, Any]:
    """The preset's fields as stored (nulls dropped), or `InvalidPlan` naming each problem.
    A `name` in the body (a client sending back what it read) must be the preset's."""
    if not isinstance(fields, Mapping):
        raise InvalidPlan([{"field": "body", "message": "a preset is a JSON object of stack fields"}])
    errors: list[dict[str, str]] = []
    for key in PLACE_FIELDS:
        if fields.get(key) is not None:
            errors.append({"field": key, "message": "a preset keeps a setup, not a place; give it when starting"})
    if "name" in fields and fields["name"] != name:
        errors.append({"field": "name", "message": "is the preset's name, given in the path"})
    rest = {k: v for k, v in fields.items() if k not in (*PLACE_FIELDS, "name")}
    check_fields(rest, PRESET_FIELDS, errors)
    if errors:
        raise InvalidPlan(errors)
    return {k: v for k, v in rest.items() if v is not None}


class PresetStore:
    def __init__(self, state_dir: Path) -> None:
        self.path = Path(state_dir) / PRESETS_FILE
        self._presets: dict[str, dict[str, Any]] = {}
        self._lock = asyncio.Lock()

    async def load(self) -> None:
        self._presets = await asyncio.to_thread(self._read)

    def _read(self) -> dict[str, dict[str, Any]]:
        try:
            data = json.loads(self.path.read_bytes())
            presets = data["presets"]
            loaded = {check_name(n): check_preset(f) for n, f in presets.items()}
        except FileNotFoundError:
            return {}
        except (OSError, ValueError, KeyError, TypeError, AttributeError, InvalidPlan) as exc:
            # Kept aside, not overwritten by the next change: the user's setups are in it.
            aside = self.path.with_name(f"{PRESETS_FILE}.unreadable-{int(time.time())}")
            log_event(log, "presets not loaded", logging.WARNING, file=str(self.path), error=str(exc), kept=str(aside))
            try:
                self.path.rename(aside)
            except OSError:
                pass
            return {}
        return loaded

    def list(self) -> list[dict[str, Any]]:
        return [{"name": name, **self._presets[name]} for name in sorted(self._presets, key=str.casefold)]

    def get(self, name: str) -> dict[str, Any]:
        check_name(name)
        fields = self._presets.get(name)
        if fields is None:
            raise PresetNotFound(f"no preset named {name!r}")
        return {"name": name, **fields}

    async def put(self, name: str, fields: object) -> dict[str, Any]:
        check_name(name)
        checked = check_preset(fields, name)
        async with self._lock:
            if name not in self._presets and len(self._presets) >= MAX_PRESETS:
                raise InvalidPlan([{"field": "name", "message": f"at most {MAX_PRESETS} presets; delete one first"}])
            await self._write({**self._presets, name: checked})
        log_event(log, "preset saved", preset=name)
        return {"name": name, **checked}

    async def delete(self, name: str) -> None:
        self.get(name)
        async with self._lock:
            await self._write({k: v for k, v in self._presets.items() if k != name})
        log_event(log, "preset deleted", preset=name)

    async def _write(self, presets: dict[str, dict[str, Any]]) -> None:
        data = json.dumps({"version": VERSION, "presets": presets}, indent=1, ensure_ascii=False).encode()
        try:
            await asyncio.to_thread(write_atomic, self.path, data)
        except OSError as exc:
            raise StorageFull(f"cannot save the presets: {exc.strerror or exc}") from exc
        self._presets = presets  # only once it is on disk

    def apply(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """A stack body with `preset` replaced by the preset's fields; the body's own
        fields win, and a field given as null drops the preset's value."""
        name = body.get("preset")
        if name is None:
            return dict(body)
        try:
            fields = self.get(name)
        except (PresetNotFound, InvalidPlan):
            raise InvalidPlan(
                [{"field": "preset", "message": f"no preset named {name!r}; GET /api/v1/presets lists them"}]
            ) from None
        merged = {"name": name, **{k: v for k, v in fields.items() if k != "name"}}
        merged.update({k: v for k, v in body.items() if k != "preset"})
        return {k: v for k, v in merged.items() if v is not None}
