"""The status poller leaves its idle period as soon as a move begins (simulated board).

With the idle period and the drive's own re-ask made far longer than the link
timeout, a move can only see its end through the poller's busy-rate `?`: before
the poller was woken, such a move ended as "lost" (no report for 3 s)."""

from __future__ import annotations

import pytest

from raild.drives.grbl import drive as grbl_drive
from raild.drives.grbl.drive import GrblDrive
from raild.sim.grbl.sim import GrblSim


async def test_a_move_begun_while_idle_is_polled_at_the_busy_rate(
    sim: GrblSim, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(grbl_drive, "IDLE_POLL_S", 3600.0)
    monkeypatch.setattr(grbl_drive, "REASK_S", 3600.0)
    drive = GrblDrive(sim.config, sim.url)
    await drive.start()
    try:
        await drive.unlock()  # power-up alarm lock (homing enabled); the poller now sleeps its idle period
        before = sim.rail.true_position_steps
        seen: list[int] = []
        res = await drive.move(-2000, 3000.0, 0.0, 0.0, seen.append)
        assert res.reason is None, res  # (not exact: never homed)
        assert res.steps == -2000 == sim.rail.true_position_steps - before
        assert len(seen) >= 2  # reports came during the move, not only the first one asked for
    finally:
        await drive.close()
