"""`raild check` findings for `[drive] backend = "grbl"`: the port, the board, its settings.

`grbl_findings(config)` is what `raild.check.collect` adds in place of the pigpiod
findings when the grbl backend is configured. It connects without moving
anything (a soft reset, `$$`, one `?`) and never writes a setting.
"""

from __future__ import annotations

import asyncio
import grp
import os
from pathlib import Path

from raild.check import Finding
from raild.config import Config
from raild.drives.grbl.drive import GrblDrive
from raild.drives.grbl.settings import compare
from raild.drives.protocol import DriveFault

DIALOUT_FIX = "sudo usermod -aG dialout $USER (raild's user), then log in again or restart raild"


def _device_findings(port: str) -> list[Finding]:
    if "://" in port:
        return []
    path = Path(port)
    if not path.exists():
        return [
            Finding(
                "fail",
                "grbl",
                f"{port} does not exist",
                "plug the board in; `ls /dev/ttyACM* /dev/ttyUSB*` shows its name for [grbl] port",
            )
        ]
    if not os.access(path, os.R_OK | os.W_OK):
        try:
            group = grp.getgrgid(path.stat().st_gid).gr_name
        except KeyError:
            group = "its group"
        fix = DIALOUT_FIX if group == "dialout" else f"add raild's user to {group}"
        return [Finding("fail", "grbl", f"{port} is not readable and writable by this user", fix)]
    return []


async def _probe(config: Config) -> list[Finding]:
    drive = GrblDrive(config)
    try:
        await drive.connect(check_settings=False)
    except DriveFault as exc:
        return [Finding("fail", "grbl", str(exc), "check [grbl] port and baud, and that the board runs grbl 1.1")]
    try:
        found = [Finding("ok", "grbl", f"grbl {drive.version} answering on {drive.url}")]
        mismatches = compare(drive.settings, config, config.grbl.axis)
        for mm in mismatches:
            found.append(Finding("fail", "grbl settings", mm.line(), "raild check --fix-grbl"))
        if not mismatches:
            found.append(Finding("ok", "grbl settings", "the board's $ settings agree with the config"))
        if drive.locked:
            found.append(Finding("warn", "grbl", "the board is in its alarm lock; raild homes (or resets) to clear it"))
        return found
    finally:
        await drive.close()


def grbl_findings(config: Config) -> list[Finding]:
    found = _device_findings(config.grbl.port)
    if found:
        return found
    return asyncio.run(_probe(config))
