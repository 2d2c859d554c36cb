"""The grbl drive reopens a lost serial link by itself (grbl emulator, simulated rail).

The emulator's TCP serial end is unplugged (clients dropped, nobody can connect) and
plugged back at the same address, as a USB cable would be; the board may also reset by
itself. Every wait is on an event of the rail's bus."""

from __future__ import annotations

import asyncio

import pytest

from raild.events import Subscription
from raild.motion.errors import EstopLatched, FaultLatched, HardwareUnavailable, MoveInterrupted, NotHomed

from .conftest import RailBench
from .test_rail_both_drives import _moving_past

RESTORE_TIMEOUT_S = 30.0  # backoff 0.5 s → 5 s; a loaded machine is slow to open a socket


async def _link_event(sub: Subscription, link: str, timeout_s: float = RESTORE_TIMEOUT_S) -> dict[str, object]:
    async with asyncio.timeout(timeout_s):
        while True:
            event = await sub.get()
            if event is not None and event.kind == "rail:link" and event.data["link"] == link:
                return event.data


async def _usable_again(b: RailBench) -> None:
    """After the link is back: the position is unknown, homing makes the rail exact again."""
    rail = b.rail
    assert rail.state == "idle" and rail.status()["link"] == "ready"
    assert not rail.position_known and not rail.homed
    with pytest.raises(NotHomed):
        await rail.move_to_um(3_000.0)
    await rail.home()
    await rail.move_to_um(3_000.0)
    assert rail.position_known and rail.position_steps == b.true_steps
    b.assert_in_sync()


async def test_unplugged_while_idle_reconnects_by_itself(grbl: RailBench) -> None:
    rail = grbl.rail
    await rail.home()
    with grbl.events.subscribe(maxsize=1000) as sub:
        await asyncio.to_thread(grbl.sim.unplug)
        lost = await _link_event(sub, "lost")
        assert "lost" in str(lost["message"])
        status = rail.status()
        assert status["link"] == "lost" and status["state"] == "fault"
        assert status["fault"]["code"] == "drive_lost" and not status["homed"]
        with pytest.raises(HardwareUnavailable, match="reconnecting"):
            await rail.move_to_um(1_000.0)  # the API answers 503
        assert rail.drive.status()["reconnecting"]
        await asyncio.to_thread(grbl.sim.replug, True)  # USB back: the Uno powers up again
        await _link_event(sub, "ready")
    await _usable_again(grbl)


async def test_unplugged_mid_move_reconnects_by_itself(grbl: RailBench) -> None:
    rail = grbl.rail
    await rail.home()
    with grbl.events.subscribe(maxsize=1000) as sub:
        task = rail.start_move_to_um(8_000.0)
        await _moving_past(grbl, rail.position_steps + rail.um_to_steps(300.0))
        await asyncio.to_thread(grbl.sim.unplug)
        with pytest.raises(HardwareUnavailable, match="lost"):
            await task
        await _link_event(sub, "lost")
        assert not rail.position_known and rail.status()["link"] == "lost"
        await asyncio.to_thread(grbl.sim.replug, True)
        await _link_event(sub, "ready")
    await _usable_again(grbl)


async def test_back_without_a_power_cycle_still_wants_homing(grbl: RailBench) -> None:
    """ser2net restarted: the board kept running, but raild cannot know that it did."""
    rail = grbl.rail
    await rail.home()
    with grbl.events.subscribe(maxsize=1000) as sub:
        await asyncio.to_thread(grbl.sim.unplug)
        await _link_event(sub, "lost")
        await asyncio.to_thread(grbl.sim.replug, False)
        await _link_event(sub, "ready")
    await _usable_again(grbl)


async def test_a_board_that_resets_by_itself_is_reopened_and_forgets_the_position(grbl: RailBench) -> None:
    rail = grbl.rail
    await rail.home()
    await rail.move_to_um(4_000.0)
    with grbl.events.subscribe(maxsize=1000) as sub:
        await asyncio.to_thread(grbl.sim.inject_reset)  # grbl's MPos is 0 again; the carriage did not move
        lost = await _link_event(sub, "lost")
        assert "reset by itself" in str(lost["message"])
        await _link_event(sub, "ready")
    await _usable_again(grbl)


async def test_reset_during_the_outage_reports_and_the_drive_keeps_trying(grbl: RailBench) -> None:
    rail = grbl.rail
    with grbl.events.subscribe(maxsize=1000) as sub:
        await asyncio.to_thread(grbl.sim.unplug)
        await _link_event(sub, "lost")
        with pytest.raises(HardwareUnavailable, match="cannot open"):
            await rail.reset()  # nothing to open: a clear 503, the background retries go on
        assert rail.drive.status()["reconnecting"]
        await asyncio.to_thread(grbl.sim.replug, True)
        await _link_event(sub, "ready")
    await _usable_again(grbl)


async def test_close_ends_the_retries(grbl: RailBench) -> None:
    with grbl.events.subscribe(maxsize=1000) as sub:
        await asyncio.to_thread(grbl.sim.unplug)
        await _link_event(sub, "lost")
    assert grbl.rail.drive.status()["reconnecting"]
    await grbl.rail.close()
    assert not grbl.rail.drive.status()["reconnecting"]


async def test_a_fault_latched_before_the_link_dropped_outlives_its_return(grbl: RailBench) -> None:
    """A limit trip latched, then a USB glitch: the link coming back clears only its own
    fault; the limit trip still wants raild's reset."""
    rail = grbl.rail
    await rail.home()
    await rail.drive._command("$20=0")  # type: ignore[attr-defined]  # the board's soft limits off: its switch is reachable
    async with rail._exclusive("moving"):  # onto the min switch, past raild's own soft limits on purpose
        with pytest.raises(MoveInterrupted, match="limit"):
            await rail._move_steps(-rail.um_to_steps(3_000.0), 1_000.0)
    assert rail.status()["fault"]["code"] == "limit"
    await rail.drive._command("$20=1")  # type: ignore[attr-defined]  # as raild wants them: the link's return checks $$
    with rail.events.subscribe(maxsize=1000) as sub:
        await asyncio.to_thread(grbl.sim.unplug)
        await _link_event(sub, "lost")
        assert rail.status()["fault"]["code"] == "limit"  # not overwritten by the link's own fault
        await asyncio.to_thread(grbl.sim.replug, False)
        await _link_event(sub, "ready")
    assert rail.state == "fault" and rail.status()["fault"]["code"] == "limit"
    with pytest.raises(FaultLatched):
        await rail.move_to_um(1_000.0)
    await rail.reset()
    await rail.home()
    await rail.move_to_um(1_000.0)
    assert rail.position_steps == grbl.true_steps


async def test_an_estop_while_the_board_wakes_for_homing_stops_the_cycle_before_it_starts(grbl: RailBench) -> None:
    rail = grbl.rail
    drive = rail.drive
    enable = drive.enable
    cycles: list[str] = []
    home = drive.home  # type: ignore[attr-defined]

    async def enable_then_estop() -> None:  # the e-stop lands while homing awaits the board
        await enable()
        rail.estop()

    async def counted_home() -> object:
        cycles.append("$H")
        return await home()

    drive.enable = enable_then_estop  # type: ignore[method-assign]
    drive.home = counted_home  # type: ignore[attr-defined]
    with pytest.raises(EstopLatched):
        await rail.home()
    assert cycles == []  # grbl takes $H even in its alarm lock: it must never be sent
    assert rail.state == "estop" and not rail.homed
