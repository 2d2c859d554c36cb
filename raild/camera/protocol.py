"""The `Camera` protocol and the values it passes around.

Every backend (simulated, wired shutter, gphoto2) implements `Camera`; the
stack runner and the API depend on this module only, never on a backend.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable


@dataclass(frozen=True)
class Capabilities:
    """What a backend can do; the API and the UI hide what is `False`."""

    capture: bool
    confirm: bool  # the camera itself reports that a frame was taken
    download: bool  # the frame can be copied to the Pi
    preview: bool  # live-view frames
    settings: bool  # iso, shutterspeed, aperture, ...

    def as_dict(self) -> dict[str, bool]:
        return {
            "capture": self.capture,
            "confirm": self.confirm,
            "download": self.download,
            "preview": self.preview,
            "settings": self.settings,
        }


@dataclass(frozen=True)
class Setting:
    value: str
    choices: list[str]
    readonly: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {"value": self.value, "choices": list(self.choices), "readonly": self.readonly}


@dataclass
class Capture:
    """One exposure. `download` resolves to `dest` once it is written atomically,
    to `None` when the backend cannot download, or raises a `CameraError`."""

    confirmed: bool
    download: asyncio.Future[Path | None]
    camera_file: str | None = None  # where the camera stored it, when it says
    time_s: float = 0.0  # wall-clock time of the exposure
    info: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class Camera(Protocol):
    backend: str
    capabilities: Capabilities

    async def open(self) -> None: ...

    async def close(self) -> None: ...

    def status(self) -> dict[str, Any]: ...

    async def capture(self, dest: Path) -> Capture: ...

    async def preview(self) -> bytes: ...

    async def get_settings(self) -> dict[str, Setting]: ...

    async def set_settings(self, values: dict[str, str]) -> None: ...


def resolved_future(value: Path | None) -> asyncio.Future[Path | None]:
    """A download future that is already done (backends that cannot download)."""
    fut: asyncio.Future[Path | None] = asyncio.get_running_loop().create_future()
    fut.set_result(value)
    return fut
