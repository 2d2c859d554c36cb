"""GrblDrive against the grbl emulator over socket:// (simulated rail, time-scaled)."""

from __future__ import annotations

import asyncio
import socket

import pytest

from raild.drives.grbl.drive import GrblCommandError, GrblDrive, GrblSettingsFault
from raild.drives.protocol import DriveFault, HomingDrive
from raild.sim.grbl.sim import GrblSim
from tests.grbl.conftest import grbl_config


async def _homed(drive: GrblDrive, sim: GrblSim) -> None:
    assert isinstance(drive, HomingDrive)
    res = await drive.home()
    assert res.exact and res.reason is None
    assert sim.rail.true_position_steps == res.steps  # switch trips at 0 µm; resting pull-off away


async def test_moves_land_exactly_on_the_true_position(sim: GrblSim, drive: GrblDrive) -> None:
    await _homed(drive, sim)
    seen: list[int] = []
    for delta in (3201, -1777, 5):
        before = sim.rail.true_position_steps
        res = await drive.move(delta, 3000.0, 0.0, 0.0, seen.append)
        assert res.reason is None and res.exact
        assert res.steps == delta == sim.rail.true_position_steps - before
    assert seen and sim.rail.lost_steps == 0


async def test_request_stop_decelerates_and_is_exact(sim: GrblSim, drive: GrblDrive) -> None:
    await _homed(drive, sim)
    before = sim.rail.true_position_steps
    moving = asyncio.Event()

    def progress(steps: int) -> None:
        if steps > 800:
            moving.set()

    task = asyncio.create_task(drive.move(40_000, 4000.0, 0.0, 0.0, progress))
    await asyncio.wait_for(moving.wait(), 10)
    drive.request_stop()
    res = await task
    assert res.reason == "stop" and res.exact
    assert 800 < res.steps < 40_000
    assert res.steps == sim.rail.true_position_steps - before
    assert drive.status()["state"] == "Idle" and not drive.locked


async def test_jog_stops_on_request_exactly(sim: GrblSim, drive: GrblDrive) -> None:
    await _homed(drive, sim)
    before = sim.rail.true_position_steps
    moving = asyncio.Event()
    task = asyncio.create_task(drive.jog(1, 3000.0, 0.0, 0.0, None, lambda s: s > 500 and moving.set()))
    await asyncio.wait_for(moving.wait(), 10)
    drive.request_stop()
    res = await task
    assert res.reason == "stop" and res.exact
    assert res.steps == sim.rail.true_position_steps - before > 500


async def test_halt_now_is_an_estop_that_locks_until_unlock(sim: GrblSim, drive: GrblDrive) -> None:
    await _homed(drive, sim)
    moving = asyncio.Event()
    task = asyncio.create_task(drive.move(40_000, 4000.0, 0.0, 0.0, lambda s: s > 800 and moving.set()))
    await asyncio.wait_for(moving.wait(), 10)
    drive.halt_now("estop")
    res = await task
    assert res.reason == "estop" and not drive.position_exact
    assert abs(res.steps - (sim.rail.true_position_steps - 1600)) <= 2  # 1 µm report at 1600 steps/mm
    with pytest.raises(DriveFault, match="ALARM:3"):
        await drive.move(100, 3000.0, 0.0, 0.0, lambda s: None)
    await drive.unlock()
    res = await drive.move(100, 3000.0, 0.0, 0.0, lambda s: None)
    assert res.reason is None


async def test_locked_at_power_up_and_moves_refused_with_a_reason(drive: GrblDrive) -> None:
    assert drive.locked
    with pytest.raises(DriveFault, match="home, or reset"):
        await drive.move(100, 3000.0, 0.0, 0.0, lambda s: None)


async def test_disconnect_marks_the_move_lost_and_reconnect_works(sim: GrblSim, drive: GrblDrive) -> None:
    await _homed(drive, sim)
    moving = asyncio.Event()
    task = asyncio.create_task(drive.move(40_000, 4000.0, 0.0, 0.0, lambda s: s > 400 and moving.set()))
    await asyncio.wait_for(moving.wait(), 10)
    await asyncio.to_thread(sim.unplug)  # nobody can connect: the drive's own retries fail meanwhile
    res = await task
    assert res.reason == "lost" and not res.exact
    assert drive.status()["link"] == "lost" and drive.status()["reconnecting"]
    await asyncio.to_thread(sim.replug, False)
    await drive.start()  # soft reset while moving: grbl alarms, the position is not trusted
    assert drive.status()["link"] == "ready" and not drive.position_exact


async def test_mismatched_settings_name_each_setting_and_fix() -> None:
    sim = GrblSim(grbl_config(), settings={110: 500.0, 120: 10.0})
    sim.start_blocking()
    try:
        drive = GrblDrive(sim.config, sim.url)
        with pytest.raises(GrblSettingsFault) as err:
            await drive.start()
        text = str(err.value)
        assert "$110" in text and "$110=180.000" in text
        assert "$120" in text and "$120=20.000" in text
        assert "--fix-grbl" in text and drive.status()["link"] == "fault"
    finally:
        sim.stop_blocking()


async def test_garbage_and_a_foreign_banner_give_a_clear_fault() -> None:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    port = server.getsockname()[1]

    def serve() -> None:
        conn, _ = server.accept()
        conn.recv(16)
        conn.sendall(b"\xff\xfe\x00garbage\r\nMarlin 2.1 ready\r\npartial <Idle|MPo")
        conn.recv(16)

    thread = asyncio.get_running_loop().run_in_executor(None, serve)
    cfg = grbl_config().with_overrides(grbl={"connect_timeout_s": 0.5})
    drive = GrblDrive(cfg, f"socket://127.0.0.1:{port}")
    with pytest.raises(DriveFault, match="no grbl banner") as err:
        await drive.start()
    assert "Marlin" in str(err.value)
    await drive.close()
    server.close()
    await asyncio.wait_for(thread, 5)


async def test_unopenable_port_is_a_fault() -> None:
    drive = GrblDrive(grbl_config(), "/dev/does-not-exist-grbl")
    with pytest.raises(DriveFault, match="cannot open"):
        await drive.start()


async def test_error_answers_name_the_code_and_meaning(drive: GrblDrive) -> None:
    with pytest.raises(GrblCommandError, match=r"error:6 \(step pulse must be at least 3 µs\)") as err:
        await drive._command("$0=2")
    assert err.value.code == 6
    assert drive.status()["link"] == "ready"


async def test_a_limit_alarm_ends_the_move_and_locks() -> None:
    sim = GrblSim(grbl_config(), settings={20: 0})  # soft limits off: the carriage can reach the switch
    sim.start_blocking()
    drive = GrblDrive(sim.config, sim.url)
    try:
        await drive.connect(check_settings=False)
        await drive.unlock()
        res = await drive.move(-16_000, 4000.0, 0.0, 0.0, lambda s: None)  # 10 mm; the min switch is 5 mm away
        assert res.reason == "limit" and drive.alarm == 1 and drive.locked
        assert abs(sim.rail.true_position_steps) <= 1
        assert abs(res.steps - (-8000)) <= 2
        with pytest.raises(DriveFault, match="ALARM:1"):
            await drive.move(100, 3000.0, 0.0, 0.0, lambda s: None)
        await drive.unlock()  # raild's reset: soft reset (the board demands it), then $X
        assert not drive.locked
        res = await drive.move(1600, 3000.0, 0.0, 0.0, lambda s: None)
        assert res.reason is None and sim.rail.true_position_steps - 1600 in range(-1, 2)
    finally:
        await drive.close()
        sim.stop_blocking()


async def test_stop_before_the_line_is_sent_never_starts(sim: GrblSim, drive: GrblDrive) -> None:
    await _homed(drive, sim)
    before = sim.rail.true_position_steps
    task = asyncio.create_task(drive.move(8000, 3000.0, 0.0, 0.0, lambda s: None))
    await asyncio.sleep(0)  # the move is waiting for its first status report
    drive.request_stop()
    res = await task
    assert res.reason == "stop" and res.steps == 0 == sim.rail.true_position_steps - before
    assert drive.status()["state"] == "Idle"


async def test_disable_sleeps_the_board_and_enable_wakes_it_in_place(sim: GrblSim, drive: GrblDrive) -> None:
    await _homed(drive, sim)
    await drive.disable()
    assert not drive.motor_enabled and sim.machine_status()["state"] == "Sleep"
    with pytest.raises(DriveFault, match="disabled"):
        await drive.move(100, 3000.0, 0.0, 0.0, lambda s: None)
    await drive.enable()
    assert drive.motor_enabled and drive.position_exact and not drive.locked
    before = sim.rail.true_position_steps
    res = await drive.move(321, 3000.0, 0.0, 0.0, lambda s: None)
    assert res.exact and res.steps == 321 == sim.rail.true_position_steps - before


async def test_halt_with_disable_when_idle_sleeps_the_board(sim: GrblSim, drive: GrblDrive) -> None:
    await _homed(drive, sim)
    drive.halt_now("estop", disable=True)
    for _ in range(500):  # the drive learns it from grbl's `ok` to $SLP
        if not drive.motor_enabled:
            break
        await asyncio.sleep(0.01)
    assert sim.machine_status()["state"] == "Sleep" and not drive.motor_enabled


async def test_in_process_emulator_for_sim_serves_a_drive() -> None:
    from raild.sim.grbl.inprocess import start_grbl_sim

    config = grbl_config().with_overrides(drive={"backend": "grbl"})
    sim, url = await start_grbl_sim(config)
    try:
        assert url.startswith("socket://127.0.0.1:")
        drive = GrblDrive(config, port=url)
        await drive.start()
        assert drive.status()["link"] == "ready" and drive.status()["version"] == "1.1h"
        await drive.close()
    finally:
        await sim.stop()


async def test_noise_mid_session_is_counted_and_harmless(sim: GrblSim, drive: GrblDrive) -> None:
    await _homed(drive, sim)
    seen = drive.status()["garbage_lines"]
    sim.inject_output(b"\xff\xfe\x00noise\r\n<Idle|MPo\r\nunexpected words\r\n")
    before = sim.rail.true_position_steps
    res = await drive.move(400, 3000.0, 0.0, 0.0, lambda s: None)
    assert res.reason is None and res.steps == 400 == sim.rail.true_position_steps - before
    assert drive.status()["garbage_lines"] == seen + 3 and drive.status()["link"] == "ready"


async def test_jog_ends_by_itself_at_its_limit(sim: GrblSim, drive: GrblDrive) -> None:
    await _homed(drive, sim)
    before = sim.rail.true_position_steps
    res = await drive.jog(1, 3000.0, 0.0, 0.0, 2345, lambda s: None)
    assert res.reason is None and res.exact and res.steps == 2345 == sim.rail.true_position_steps - before


async def test_homing_failure_is_a_fault_naming_the_alarm() -> None:
    sim = GrblSim(grbl_config(), settings={130: 2.0})  # searches 3 mm; the switch is 5 mm away
    sim.start_blocking()
    drive = GrblDrive(sim.config, sim.url)
    try:
        await drive.connect(check_settings=False)
        with pytest.raises(DriveFault, match=r"homing failed: ALARM:9 \(homing failed: limit switch not found"):
            await drive.home()
        assert drive.locked and not drive.position_exact
    finally:
        await drive.close()
        sim.stop_blocking()


async def test_stop_during_homing_aborts_the_cycle(sim: GrblSim, drive: GrblDrive) -> None:
    homing = asyncio.create_task(drive.home())
    for _ in range(500):
        if sim.machine_status()["state"] == "Home":
            break
        await asyncio.sleep(0.01)
    drive.request_stop()
    res = await homing
    assert res.reason == "stop" and not res.exact and drive.locked
    assert sim.machine_status()["state"] == "Alarm"
