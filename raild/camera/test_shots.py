"""Test shots: captures outside any stack, kept in the state directory's captures/ folder.

A shot is named by its UTC time (with microseconds, so two in one second differ);
reading one back takes only a name of the same shape, and the file must lie in the
folder once symlinks are resolved.
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass
from pathlib import Path

from raild.camera.errors import CameraError
from raild.camera.protocol import Camera
from raild.files import within

CAPTURES_DIR = "captures"
# One path segment, no leading dot: no "..", no "/", no "\", no "%".
NAME_PATTERN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,127}")


class CaptureNotFound(CameraError):
    """No test shot by that name in the captures folder (404)."""

    status = 404
    code = "not_found"


@dataclass(frozen=True)
class TestShot:
    __test__ = False  # not a pytest class

    name: str
    size: int | None  # bytes; None when the backend cannot download
    confirmed: bool
    downloaded: bool


class TestShots:
    __test__ = False

    def __init__(self, state_dir: Path) -> None:
        self.folder = state_dir / CAPTURES_DIR

    async def take(self, camera: Camera) -> TestShot:
        await asyncio.to_thread(self.folder.mkdir, parents=True, exist_ok=True)
        name = time.strftime("test-%Y%m%d-%H%M%S", time.gmtime()) + f"-{time.time_ns() % 10**6:06d}.jpg"
        shot = await camera.capture(self.folder / name)
        path = await shot.download
        if path is None:
            return TestShot(name, None, shot.confirmed, downloaded=False)
        size = (await asyncio.to_thread(path.stat)).st_size
        return TestShot(path.name, size, shot.confirmed, downloaded=True)

    def file(self, name: str) -> Path:
        """The shot's file, resolved inside the folder; `CaptureNotFound` otherwise."""
        if NAME_PATTERN.fullmatch(name) is None:
            raise CaptureNotFound("no such capture")
        path = within(self.folder, self.folder / name)
        if path is None:
            raise CaptureNotFound("no such file")
        return path
