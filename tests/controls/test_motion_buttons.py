"""Stop, hold-to-jog and the encoder, pressed through the rig's `drive` command."""

from __future__ import annotations

import asyncio

import pytest

from raild.daemon import Daemon
from tests.controls.conftest import PANEL, Rig, next_event, until

STEP_UM = PANEL["jog_step_um"]


async def _settled(daemon: Daemon, rig: Rig) -> float:
    """Wait until the rail is idle and the carriage has stayed put; its true position."""
    rail = daemon.rail
    assert rail is not None
    last = None

    def still() -> bool:
        nonlocal last
        now = (rail.state, rig.true_um())
        same = now == last and now[0] == "idle"
        last = now
        return same

    await until(still, 10, "the rail to come to rest")
    return rig.true_um()


async def test_stop_button_stops_a_move_with_the_position_exact(daemon: Daemon, rig: Rig) -> None:
    rail = daemon.rail
    assert rail is not None
    rail.zero()  # this rail has no switches: here is 0 µm
    start_um = rig.true_um()
    move = asyncio.create_task(rail.move_by_um(20_000.0))
    await until(lambda: rig.true_um() > start_um + 300, 10, "the move to get going")
    with daemon.events.subscribe() as sub:
        rig.press("stop")
        assert (await next_event(sub, "controls:press")).data == {"button": "stop"}
    rig.release("stop")
    await asyncio.gather(move, return_exceptions=True)
    true_um = await _settled(daemon, rig)
    status = daemon.status()
    assert status["state"] == "idle" and status["motor_enabled"] is True, status  # nothing latched
    assert true_um < start_um + 19_000, "the move ran on"
    assert status["position_known"] is True
    assert status["position_steps"] == rail.um_to_steps(true_um - start_um)


async def test_holding_a_jog_button_moves_until_it_is_released(daemon: Daemon, rig: Rig) -> None:
    before_um = await _settled(daemon, rig)
    rig.press("jog_plus")
    await until(lambda: rig.true_um() > before_um + 3 * STEP_UM, 5, "the jog to move the carriage")
    await asyncio.sleep(0.6)  # held past the dead-man time: the renewals keep it going
    held_um = rig.true_um()
    await until(lambda: rig.true_um() > held_um + STEP_UM, 5, "the jog to keep going while held")
    rig.release("jog_plus")
    after_um = await _settled(daemon, rig)
    await asyncio.sleep(0.7)  # longer than the dead-man: nothing moves on its own
    assert rig.true_um() == after_um
    assert after_um > before_um

    rig.press("jog_minus")
    await until(lambda: rig.true_um() < after_um - 3 * STEP_UM, 5, "the jog back")
    rig.release("jog_minus")
    back_um = await _settled(daemon, rig)
    assert back_um < after_um


async def test_releasing_one_jog_button_hands_over_to_the_other_still_held(daemon: Daemon, rig: Rig) -> None:
    before_um = await _settled(daemon, rig)
    rig.press("jog_plus")
    await until(lambda: rig.true_um() > before_um + 2 * STEP_UM, 5, "the jog towards +")
    rig.press("jog_minus")  # the newest button drives
    turned_um = rig.true_um()
    await until(lambda: rig.true_um() < turned_um - 2 * STEP_UM, 5, "the jog to turn round")
    rig.release("jog_minus")  # jog_plus is still held: back to +
    low_um = rig.true_um()
    await until(lambda: rig.true_um() > low_um + 2 * STEP_UM, 5, "the jog to go + again")
    rig.release("jog_plus")
    await _settled(daemon, rig)


async def test_each_encoder_detent_moves_one_jog_step(daemon: Daemon, rig: Rig) -> None:
    before_um = await _settled(daemon, rig)
    with daemon.events.subscribe() as sub:
        rig.turn("+", 3)
        events = [await next_event(sub, "controls:press") for _ in range(3)]
    assert [e.data for e in events] == [{"button": "encoder", "direction": "+"}] * 3
    await until(lambda: rig.true_um() == pytest.approx(before_um + 3 * STEP_UM), 5, "three steps forward")
    rig.turn("-", 5)
    await until(lambda: rig.true_um() == pytest.approx(before_um - 2 * STEP_UM), 5, "five steps back")
    assert await _settled(daemon, rig) == pytest.approx(before_um - 2 * STEP_UM)


async def test_a_turn_that_goes_back_before_the_detent_does_not_step(daemon: Daemon, rig: Rig) -> None:
    before_um = await _settled(daemon, rig)
    a, b = PANEL["encoder_a"], PANEL["encoder_b"]
    with daemon.events.subscribe() as sub:
        # Half-way into a clockwise detent, then back out: no detent was passed.
        for gpio, level in ((a, 0), (b, 0), (b, None), (a, None)):
            rig.drive(gpio, level)
        rig.turn("+", 1)  # then a whole one, which does count
        event = await next_event(sub, "controls:press")
    assert event.data == {"button": "encoder", "direction": "+"}
    assert await _settled(daemon, rig) == pytest.approx(before_um + STEP_UM)
