"""What the Rail does with what only the grbl drive reports (grbl emulator, simulated rail):
a lost serial link, a stop during grbl's own homing cycle, a limit alarm, a board that
refuses a command."""

from __future__ import annotations

import asyncio

import pytest

from raild.motion.errors import FaultLatched, HardwareUnavailable, MoveInterrupted

from .conftest import RailBench
from .test_rail_both_drives import _moving_past


async def test_a_lost_link_makes_the_position_unknown_and_reset_reconnects(grbl: RailBench) -> None:
    rail = grbl.rail
    await rail.home()
    task = rail.start_move_to_um(8_000.0)
    await _moving_past(grbl, rail.position_steps + rail.um_to_steps(300.0))
    await asyncio.to_thread(grbl.sim.unplug)  # nobody can connect: the drive's own retries fail meanwhile
    with pytest.raises(HardwareUnavailable, match="lost"):
        await task
    assert rail.state == "fault" and rail.status()["fault"]["code"] == "drive_lost"
    assert not rail.position_known and not rail.homed
    with pytest.raises(HardwareUnavailable):
        await rail.move_to_um(1_000.0)
    await asyncio.to_thread(grbl.sim.replug, False)
    await rail.reset()  # reconnects (drive.start, unless the drive's retry got there first) and unlocks
    assert rail.state == "idle" and not rail.position_known
    await rail.home()
    await rail.move_to_um(1_000.0)
    assert rail.position_steps == grbl.true_steps
    grbl.assert_in_sync()


async def test_a_stop_during_homing_aborts_grbls_cycle_and_forgets_the_position(grbl: RailBench) -> None:
    rail = grbl.rail
    with rail.events.subscribe() as sub:
        task = asyncio.create_task(rail.home())
        async with asyncio.timeout(10):
            while (event := await sub.get()) is None or event.data.get("state") != "homing":
                pass
    # The board has begun its cycle: its state lives in the emulator's thread, which has no
    # event to await, so a bounded wait reads it.
    async with asyncio.timeout(10):
        while grbl.sim.machine_status()["state"] != "Home":  # noqa: ASYNC110
            await asyncio.sleep(0.01)
    await rail.stop()
    with pytest.raises(MoveInterrupted, match="stop"):
        await task
    assert not rail.homed and not rail.position_known
    assert rail.state == "idle"
    await rail.reset()  # grbl's abort left it in ALARM:6; raild's reset unlocks
    await rail.home()
    assert rail.homed and rail.position_steps == grbl.true_steps


async def test_a_limit_alarm_latches_the_fault(grbl: RailBench) -> None:
    rail = grbl.rail
    await rail.home()
    await rail.drive._command("$20=0")  # type: ignore[attr-defined]  # the board's soft limits off: its switch is reachable
    async with rail._exclusive("moving"):  # past raild's own soft limits on purpose, onto the min switch
        with pytest.raises(MoveInterrupted, match="limit"):
            await rail._move_steps(-rail.um_to_steps(3_000.0), 1_000.0)
    assert rail.state == "fault" and rail.status()["fault"]["code"] == "limit"
    assert not rail.homed
    with pytest.raises(FaultLatched):
        await rail.move_to_um(1_000.0)
    await rail.reset()  # grbl's ALARM:1 lock ends only here
    await rail.home()
    await rail.move_to_um(1_000.0)
    assert rail.homed and rail.position_steps == grbl.true_steps
