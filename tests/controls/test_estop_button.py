"""The e-stop button: latches like `POST motion/estop`, within 50 ms, with the
daemon's event loop blocked (no HTTP server could answer then either)."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import pytest

from raild.daemon import Daemon
from raild.motion.errors import EstopLatched, MoveInterrupted
from tests.controls.conftest import PANEL, TOKEN, Rig, daemon_config, next_event, until

LATCH_BUDGET_S = 0.050
ENABLE_PIN = 16  # pins.enable, active low: 1 = driver off


def _watch_latch(daemon: Daemon, rig: Rig, out: dict[str, float]) -> None:
    """From a thread: press the button, then time until the rail is latched, the
    rig's wave engine has stopped and the driver is off."""
    rail = daemon.rail
    assert rail is not None
    t0 = time.monotonic()
    out["pressed_us"] = rig.drive(PANEL["estop"], 0)["emu_us"]
    while time.monotonic() - t0 < 2.0:
        if rail.state == "estop" and not rig.inspect("status")["wave_busy"] and rig.level(ENABLE_PIN) == 1:
            out["latched_s"] = time.monotonic() - t0
            break
    out["moved_after_um"] = rig.true_um()
    out["last_step_us"] = rig.inspect("pulse_log", last=1)["pulse_log"][-1]["emu_us"]


def _block_the_loop(watcher: threading.Thread) -> None:
    """Called on the daemon's event loop, and holds it for the whole press: nothing
    queued on the loop (an HTTP request, a status event) can run meanwhile."""
    watcher.join(2.0)
    time.sleep(0.2)  # still blocked: the carriage must not move on meanwhile


async def test_estop_button_halts_a_move_within_50ms_while_the_loop_is_blocked(daemon: Daemon, rig: Rig) -> None:
    rail = daemon.rail
    assert rail is not None
    start_um = rig.true_um()
    move = asyncio.create_task(rail.move_by_um(20_000.0))
    await until(lambda: rail.state == "moving" and rig.true_um() > start_um + 200, 10, "the move to get going")

    out: dict[str, float] = {}
    watcher = threading.Thread(target=_watch_latch, args=(daemon, rig, out))
    watcher.start()
    _block_the_loop(watcher)
    stopped_um = rig.true_um()

    assert "latched_s" in out, "the e-stop did not latch while the loop was blocked"
    print(f"e-stop button to halted wave and driver off: {out['latched_s'] * 1000:.1f} ms (simulated rig)")
    assert out["latched_s"] < LATCH_BUDGET_S, f"latched after {out['latched_s'] * 1000:.1f} ms"
    # On the rig's clock: the carriage's last step came within the budget of the press.
    assert 0 <= out["last_step_us"] - out["pressed_us"] < LATCH_BUDGET_S * 1e6
    assert stopped_um == pytest.approx(out["moved_after_um"], abs=1e-6)
    assert stopped_um < start_um + 19_000, "the move ran on"
    with pytest.raises(MoveInterrupted):
        await move
    assert daemon.status()["state"] == "estop"


async def test_estop_button_latches_exactly_like_the_api(daemon: Daemon, rig: Rig) -> None:
    rail = daemon.rail
    assert rail is not None
    with daemon.events.subscribe() as sub:
        rig.press("estop")
        press = await next_event(sub, "controls:press")
    assert press.data == {"button": "estop"}
    await until(lambda: daemon.status()["state"] == "estop", 2, "the e-stop latch")
    rig.release("estop")  # letting go of the button does not clear the latch
    await until(lambda: not daemon.controls.controls.estop_held, 2, "the release to be seen")
    status = daemon.status()
    assert status["state"] == "estop" and status["motor_enabled"] is False
    with pytest.raises(EstopLatched):
        await rail.move_by_um(100.0)
    await rail.reset()  # what POST motion/reset does
    assert daemon.status()["state"] == "idle"
    await rail.move_by_um(25.0)  # and the rail moves again


async def test_estop_held_down_at_start_up_latches(rig: Rig, tmp_path: Path) -> None:
    rig.press("estop")
    d = Daemon(daemon_config(rig), tmp_path / "state", TOKEN, sim=False)
    await d.start()
    try:
        assert d.rail is not None
        await until(lambda: d.rail is not None and d.rail.state == "estop", 2, "the latch of a held e-stop")
    finally:
        await d.stop()
        rig.release("estop")


async def test_a_reset_while_the_button_is_still_down_is_latched_again(daemon: Daemon, rig: Rig) -> None:
    rail = daemon.rail
    assert rail is not None
    with daemon.events.subscribe() as sub:
        rig.press("estop")
        await next_event(sub, "controls:press")
        await rail.reset()
        refused = await next_event(sub, "controls:refused")
    assert refused.data["action"] == "reset" and "still pressed" in refused.data["message"]
    assert daemon.status()["state"] == "estop"
    rig.release("estop")
    await until(lambda: not daemon.controls.controls.estop_held, 2, "the release to be seen")
    await rail.reset()
    await asyncio.sleep(0.1)
    assert daemon.status()["state"] == "idle"
