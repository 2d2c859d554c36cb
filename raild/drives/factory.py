"""The drive a config asks for (the imports stay here, so the Rail never imports pigpio or pyserial)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from raild.config import Config
from raild.drives.protocol import Drive

if TYPE_CHECKING:
    from raild.drives.grbl.drive import GrblDrive
    from raild.hw import Hardware
    from raild.sim.grbl.sim import GrblSim


def make_drive(config: Config, hw: Hardware) -> Drive:
    """The pigpio drive on the daemon's pigpiod connection `hw`."""
    from raild.drives.pigpio import PigpioDrive

    return PigpioDrive(config, hw)


def make_grbl_drive(config: Config, port: str | None = None) -> GrblDrive:
    """The grbl drive on `[grbl] port`, or on `port` (the in-process emulator's URL in --sim).
    Not started: `Rail.start()` connects it (DriveFault / GrblSettingsFault say why not)."""
    from raild.drives.grbl.drive import GrblDrive

    return GrblDrive(config, port=port)


async def start_grbl_sim(config: Config) -> tuple[GrblSim, str]:
    """--sim with backend grbl: the grbl 1.1 emulator in-process and the URL to open."""
    from raild.sim.grbl.inprocess import start_grbl_sim as start

    return await start(config)
