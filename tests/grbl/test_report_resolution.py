"""grbl reports MPos in mm with 3 decimals (1 µm). Whether a report names one step
depends on steps/mm: below 1000 steps/mm a step is longer than 1 µm and the rounded
report still resolves it; above (3200 steps/mm is the default rail), it does not and
the drive ends every stop with a short settle move to a step it chose.

Against the grbl emulator on a simulated rail (time-scaled), stops at several phases,
including during the final deceleration, where the carriage comes to rest within a
micrometre of the target: the position must be exact in every case."""

from __future__ import annotations

import asyncio

import pytest

from raild.drives.grbl.drive import GrblDrive
from raild.sim.grbl.sim import GrblSim
from tests.grbl.conftest import grbl_config

SPEED_UM_S = 2000.0
ACCEL_UM_S2 = 2000.0  # a slow deceleration (1 s from 2 mm/s), so a stop can land inside it
MOVE_UM = 4000.0


def _config(microsteps: int):  # type: ignore[no-untyped-def]
    return grbl_config(start_um=5000.0, microsteps=microsteps, accel_um_s2=ACCEL_UM_S2)


async def _stop_at(drive: GrblDrive, sim: GrblSim, delta: int, at_steps: int) -> tuple[int, int, int]:
    """Move by delta, request a stop once raild has seen at_steps; (result steps, true moved, lines sent)."""
    before = sim.rail.true_position_steps
    lines = drive.stats["lines"]
    speed = SPEED_UM_S / 1000 * drive.spm
    reached = asyncio.Event()
    task = asyncio.create_task(drive.move(delta, speed, 0.0, 0.0, lambda s: abs(s) >= at_steps and reached.set()))
    done = asyncio.create_task(reached.wait())
    await asyncio.wait([task, done], return_when=asyncio.FIRST_COMPLETED, timeout=30)
    done.cancel()
    drive.request_stop()
    res = await task
    assert res.exact, res
    assert drive.position_exact and drive.status()["state"] == "Idle"
    return res.steps, sim.rail.true_position_steps - before, drive.stats["lines"] - lines


@pytest.mark.parametrize("microsteps", [2, 8, 16])  # 400, 1600, 3200 steps/mm
async def test_stops_are_exact_whether_or_not_a_report_resolves_a_step(microsteps: int) -> None:
    config = _config(microsteps)
    sim = GrblSim(config)
    sim.start_blocking()
    drive = GrblDrive(config, sim.url)
    try:
        await drive.start()
        assert (await drive.home()).exact
        spm = drive.spm
        assert drive.report_exact == (spm < 1000)
        delta = round(MOVE_UM / 1000 * spm)
        brake = round((SPEED_UM_S / 1000) ** 2 / (2 * ACCEL_UM_S2 / 1000) * spm)  # v²/2a in steps
        # At cruise, and three times inside the final deceleration (the last one a few steps short).
        phases = [delta // 3, delta - brake // 2, delta - brake // 8, delta - 3]
        settles = 0
        await drive.move(round(12 * spm), SPEED_UM_S / 1000 * spm, 0.0, 0.0, lambda s: None)  # room both ways
        assert drive.position_steps is not None
        offset = sim.rail.true_position_steps - drive.position_steps  # grbl's machine frame vs the rail's
        for i, at in enumerate(phases):
            d = 1 if i % 2 == 0 else -1
            steps, moved, lines = _r = await _stop_at(drive, sim, d * delta, at)
            assert steps == moved, (spm, at, _r)  # raild's count is the true one
            assert drive.position_steps + offset == sim.rail.true_position_steps, (spm, at, _r)
            settles += lines - 1
            # A report that resolves a step needs no settle move: one line per move.
            if drive.report_exact:
                assert lines == 1, (spm, at, _r)
        if not drive.report_exact:
            assert settles >= 1  # the settle path was exercised
        assert sim.rail.lost_steps == 0
    finally:
        await drive.close()
        sim.stop_blocking()
