"""`raild check --fix-grbl`: write the `$` settings raild needs to the board, once, out loud.

Connects without the settings check, prints every disagreement and the line
that fixes it, writes them one at a time waiting for each `ok` (grbl's EEPROM
writes stall its serial input, so settings are never streamed), reads `$$`
back and says whether the board now agrees. Exit status 0 when it does.
"""

from __future__ import annotations

import asyncio
import sys

from raild.config import Config
from raild.drives.grbl.drive import GrblDrive
from raild.drives.grbl.settings import compare, fix_lines
from raild.drives.protocol import DriveFault

EX_UNAVAILABLE = 69


async def _fix(config: Config, port: str | None) -> int:
    drive = GrblDrive(config, port)
    try:
        await drive.connect(check_settings=False)
    except DriveFault as exc:
        print(f"FAIL grbl: {exc}", file=sys.stderr)
        return EX_UNAVAILABLE
    try:
        axis = config.grbl.axis
        mismatches = compare(drive.settings, config, axis)
        if not mismatches:
            print(f"ok   grbl: the board on {drive.url} already agrees with the config; nothing written")
            return 0
        for mm in mismatches:
            print(f"     grbl: {mm.line()}")
        for line in fix_lines(mismatches):
            print(f"     grbl: writing {line}")
            await drive._command(line)  # send-response: one EEPROM write at a time
        drive.settings = {}
        await drive._command("$$")
        left = compare(drive.settings, config, axis)
        for mm in left:
            print(f"FAIL grbl: still {mm.line()}", file=sys.stderr)
        if not left:
            print(f"ok   grbl: wrote {len(mismatches)} setting(s); the board now agrees with the config")
        return 1 if left else 0
    except DriveFault as exc:
        print(f"FAIL grbl: {exc}", file=sys.stderr)
        return 1
    finally:
        await drive.close()


def run_fix_grbl(config: Config, port: str | None = None) -> int:
    return asyncio.run(_fix(config, port))
