"""A wired shutter on grbl's flood coolant output (M8/M9), against the grbl emulator
(simulated rail): the pin's edges are recorded as "shutter" triggers at the carriage's
true position, in emulated time."""

from __future__ import annotations

import asyncio

import pytest

from raild.camera.errors import CameraUnavailable
from raild.camera.grbl_shutter import GrblCoolantShutter
from raild.config import Config, ConfigError, validate_data
from raild.drives.grbl.drive import GrblDrive
from raild.drives.protocol import DriveFault
from raild.sim.grbl.sim import GrblSim
from tests.grbl.conftest import grbl_config


def _coolant_edges(sim: GrblSim) -> list[tuple[int, int, int]]:
    """(level, emulated µs, true position in steps) of each coolant pin change."""
    return [(t.level or 0, t.emu_us, t.position_steps) for t in sim.rail.triggers if t.label == "grbl coolant"]


async def test_a_pulse_after_a_move_rises_at_rest_and_lasts_its_dwell(sim: GrblSim, drive: GrblDrive) -> None:
    await drive.home()
    before = sim.rail.true_position_steps
    moving = asyncio.Event()
    move = asyncio.create_task(drive.move(4_000, 4000.0, 0.0, 0.0, lambda s: s > 200 and moving.set()))
    await asyncio.wait_for(moving.wait(), 20)
    fire = asyncio.create_task(drive.coolant_pulse(120))  # sent while the carriage still runs
    res = await move
    await fire
    assert res.reason is None
    edges = _coolant_edges(sim)
    assert [e[0] for e in edges] == [1, 0]
    (_, on_us, on_steps), (_, off_us, _) = edges
    assert on_steps == sim.rail.true_position_steps == before + 4_000  # pressed at rest, where it stopped
    assert off_us - on_us == 120_000  # grbl's dwell, timed on the board (emulated µs)
    assert sim.machine_status()["coolant_flood"] is False


async def test_a_locked_board_refuses_the_pulse_with_a_reason(sim: GrblSim, drive: GrblDrive) -> None:
    assert drive.locked  # homing is enabled: grbl powers up in its alarm lock
    with pytest.raises(DriveFault, match="no G-code"):
        await drive.coolant_pulse(50)
    shutter = GrblCoolantShutter(sim.config, drive)
    await shutter.open()
    with pytest.raises(CameraUnavailable, match="did not fire"):
        await shutter.fire()
    assert _coolant_edges(sim) == [] and shutter.fired == 0


async def test_a_reset_while_pressed_releases_the_pin(sim: GrblSim, drive: GrblDrive) -> None:
    await drive.home()
    fire = asyncio.create_task(drive.coolant_pulse(5_000))
    assert await asyncio.to_thread(sim.coolant_on.wait, 20)  # pressed, 5 s to go
    drive.halt_now("estop")
    with pytest.raises(DriveFault):
        await fire
    assert [e[0] for e in _coolant_edges(sim)] == [1, 0]
    assert sim.machine_status()["coolant_flood"] is False


def test_config_shutter_output_is_validated() -> None:
    ok = validate_data(
        {
            "drive": {"backend": "grbl"},
            "camera": {"backend": "gpio", "shutter_output": "grbl_coolant"},
            "pins": {"shutter": 0},
        },
        "t",
    )
    assert ok.camera.shutter_output == "grbl_coolant"
    assert Config().camera.shutter_output == "gpio"
    with pytest.raises(ConfigError, match=r"drive\.backend is not 'grbl'"):
        validate_data({"camera": {"backend": "gpio", "shutter_output": "grbl_coolant"}}, "t")
    with pytest.raises(ConfigError, match="focus_ms"):
        validate_data(
            {"drive": {"backend": "grbl"}, "camera": {"shutter_output": "grbl_coolant", "focus_ms": 200}}, "t"
        )
    with pytest.raises(ConfigError, match="shutter_output"):
        validate_data({"camera": {"shutter_output": "coolant"}}, "t")
    with pytest.raises(ConfigError, match=r"pins\.shutter is 0"):  # the GPIO route still needs its pin
        validate_data({"drive": {"backend": "grbl"}, "camera": {"backend": "gpio"}, "pins": {"shutter": 0}}, "t")


def test_emulator_pin_follows_m8_m9_and_grbl_reset(sim: GrblSim) -> None:
    """Straight to the machine, no drive: M8/M9 outside the alarm lock; a reset clears the pin."""
    del sim
    s = GrblSim(grbl_config().with_overrides(homing={"switch": "none"}), settings={22: 0.0})
    s.start_blocking()
    try:
        with s.lock:
            s.machine.feed(b"M8\n", s.clock.now_us())
        assert s.machine_status()["coolant_flood"] is True
        with s.lock:
            s.machine.feed(b"\x18", s.clock.now_us())
        assert s.machine_status()["coolant_flood"] is False
        assert [e[0] for e in _coolant_edges(s)] == [1, 0]
    finally:
        s.stop_blocking()


def test_raild_check_names_the_coolant_output() -> None:
    from raild.check import check_camera

    config = Config().with_overrides(
        drive={"backend": "grbl"}, camera={"backend": "gpio", "shutter_output": "grbl_coolant"}
    )
    [finding] = check_camera(config)
    assert finding.level == "ok" and "coolant output" in finding.message
