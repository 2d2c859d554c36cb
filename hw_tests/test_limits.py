"""Limit switches stop the rail: homing halts on the home switch, and a switch
tripped in the middle of a move halts it at once, latches a fault and clears `homed`.

On a Pi, homing runs the carriage into the configured home switch for real. The
unexpected trip needs the carriage to meet a switch mid-move, which the emulator
arranges by shifting its true position (as if the carriage had slipped); on a Pi
that case is left to the emulator run.
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import AsyncIterator
from typing import Any

import pytest

from hw_tests.conftest import report
from hw_tests.rig import Target
from raild.events import EventBus

HOME_TIMEOUT_S = 180.0


def _rail_class() -> Any:
    try:
        return importlib.import_module("raild.motion.rail").Rail
    except (ImportError, AttributeError) as exc:
        pytest.skip(f"raild.motion.Rail is not available in this build: {exc}")


@pytest.fixture
async def rail(target: Target) -> AsyncIterator[Any]:
    from raild.hw import Hardware

    rail_class = _rail_class()
    hw = await Hardware.connect(target.config, target.host, target.port)
    rail = rail_class(target.config, hw, EventBus())
    await rail.start()
    try:
        yield rail
    finally:
        await rail.close()
        await hw.close()
        if target.inspector is not None:
            # Leave the virtual carriage where the next test expects it, off the switches.
            target.inspector.ask("set_position", um=target.config.sim.start_position_um)


def _switch(target: Target) -> str:
    switch = target.config.homing.switch
    if switch == "none":
        pytest.skip('no home switch configured (homing.switch = "none")')
    return switch


async def test_homing_halts_on_the_home_switch(target: Target, rail: Any) -> None:
    switch = _switch(target)
    await asyncio.wait_for(rail.home(), HOME_TIMEOUT_S)
    status = rail.status()
    assert status["state"] == "idle" and status["homed"] and status["position_known"]
    # The carriage stops a little past the trip point (the halt takes a few steps at
    # the approach speed); the rail counts them, so it is near home, not exactly on it.
    assert status["position_um"] == pytest.approx(target.config.homing.home_position_um, abs=25.0)
    if target.inspector is not None:
        # The virtual switch trips exactly at the end of travel (0 µm for "min"), so
        # the homed position must agree with the true carriage to within a few steps.
        true_um = target.inspector.ask("position")["true_position_um"]
        switch_um = 0.0 if switch == "min" else target.config.rail.travel_mm * 1000.0
        offset_um = status["position_um"] - target.config.homing.home_position_um
        assert true_um - switch_um == pytest.approx(offset_um, abs=2.0)
        report(f"SIMULATED homing: rail says {status['position_um']:.2f} um, true carriage {true_um:.2f} um")


async def test_unexpected_trip_halts_and_latches(target: Target, rail: Any) -> None:
    if target.inspector is None:
        pytest.skip("needs the emulator to move the carriage under the rail; on a Pi homing above exercises the switch")
    if target.config.pins.limit_max == 0:
        pytest.skip("no max limit switch configured (pins.limit_max = 0)")
    from raild.motion.errors import MotionError

    _switch(target)
    await asyncio.wait_for(rail.home(), HOME_TIMEOUT_S)
    travel_um = target.config.rail.travel_mm * 1000.0
    # The carriage "slips" so that the max switch (at the end of travel) is 1 mm
    # ahead of a 3 mm move the rail believes is well inside its limits.
    target.inspector.ask("set_position", um=travel_um - 1_000.0)
    start_um = rail.status()["position_um"]
    with pytest.raises(MotionError) as raised:
        await asyncio.wait_for(rail.move_by_um(3_000.0, approach=False), 30)
    status = rail.status()
    assert status["state"] == "fault", status
    assert status["fault"] and status["fault"]["code"] == "limit"
    assert status["homed"] is False
    assert status["motor_enabled"] is False
    # Halted at once: the carriage stopped near the switch, far short of the 3 mm.
    first = target.inspector.ask("position")["true_position_um"]
    await asyncio.sleep(0.2)
    second = target.inspector.ask("position")["true_position_um"]
    assert second == first, "the carriage kept moving after the trip"
    overtravel_um = first - travel_um
    assert 0.0 <= overtravel_um < 500.0, f"halted {overtravel_um:.1f} um past the switch"
    report(
        f"SIMULATED limit trip: halted {overtravel_um:.1f} um past the switch "
        f"({type(raised.value).__name__}); rail moved from {start_um:.1f} um"
    )
    with pytest.raises(MotionError):
        await rail.move_by_um(-100.0)  # latched until reset
    await rail.reset()
    assert rail.status()["state"] == "idle"
