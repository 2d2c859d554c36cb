"""The drive a config asks for (the import stays here, so the Rail never imports pigpio)."""

from __future__ import annotations

from typing import Any

from raild.config import Config
from raild.drives.protocol import Drive


def make_drive(config: Config, hw: Any) -> Drive:
    from raild.drives.pigpio import PigpioDrive

    return PigpioDrive(config, hw)
