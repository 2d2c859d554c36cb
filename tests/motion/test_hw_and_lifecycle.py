"""The pigpio connection, safe-stop, idle disable, events and wave-resource hygiene."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pigpio
import pytest

from raild.hw import Hardware, HardwareUnavailable
from raild.hw.safe_stop import safe_stop
from raild.hw.waves import load
from raild.motion.errors import HardwareUnavailable as MotionHwUnavailable
from raild.motion.halt import marker_pulses
from raild.motion.profile import Kinematics, plan_profile
from raild.motion.program import compile_program
from raild.sim.testing import pigpio_client, running_rig
from tests.support.ports import free_port

from .motion_bench import Bench, close_bench, make_config, open_bench


async def test_unreachable_pigpiod_is_a_clear_error() -> None:
    cfg = make_config(pigpio={"connect_timeout_s": 2.0})
    with pytest.raises(HardwareUnavailable, match=r"cannot connect to pigpiod at 127\.0\.0\.1:\d+"):
        await Hardware.connect(cfg, "127.0.0.1", free_port())


async def test_connection_loss_faults_the_rail_and_forgets_the_position(bench: Bench) -> None:
    rail = bench.rail
    await rail.home()
    bench.rig.inject_disconnect()
    for _ in range(50):  # the watchdog reads a tick once a second
        if rail.state == "fault":
            break
        await asyncio.sleep(0.1)
    assert rail.state == "fault" and rail.status()["fault"]["code"] == "pigpio_lost"
    assert not rail.position_known and not rail.homed and not rail.motor_enabled
    with pytest.raises(MotionHwUnavailable):
        await rail.move_to_um(1_000.0)


def test_safe_stop_halts_a_running_wave_and_disables_the_driver() -> None:
    cfg = make_config()
    with running_rig(cfg) as rig, pigpio_client(rig) as pi:
        cfg = cfg.with_overrides(pigpio={"port": rig.port})
        pins = cfg.pins
        pi.set_mode(pins.enable, pigpio.OUTPUT)
        pi.write(pins.enable, 0)  # enabled (active low)
        prog = compile_program(
            plan_profile(20_000, Kinematics(2_000, 50_000, 300), 10),
            direction=1,
            step_gpio=pins.step,
            dir_gpio=pins.dir,
            step_pulse_us=5,
            dir_setup_us=20,
        )
        loaded = load(pi, prog, marker_pulses(pins.step, pins.dir, True, 5), True)
        pi.wave_chain(loaded.chain)
        assert pi.wave_tx_busy()
        assert safe_stop(cfg) == 0
        assert not pi.wave_tx_busy()
        assert pi.read(pins.enable) == 1  # disabled
        moved = rig.rail.true_position_steps
        time.sleep(0.05)
        assert rig.rail.true_position_steps == moved


def test_safe_stop_without_pigpiod_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    cfg = make_config(pigpio={"port": free_port()})
    assert safe_stop(cfg) == 1
    assert "not reachable" in capsys.readouterr().err


async def _wait_motor_off(b: Bench, timeout_s: float = 5.0) -> dict[str, Any]:
    with b.events.subscribe(maxsize=1000) as sub:
        if not b.rail.motor_enabled:
            return b.rail.status()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            ev = await sub.get(timeout_s=0.1)
            if ev is not None and ev.kind == "rail:status" and not ev.data["motor_enabled"]:
                return dict(ev.data)
    raise AssertionError("the idle timer never switched the driver off")


async def test_idle_disable_keeps_homed_and_the_position() -> None:
    b = await open_bench(make_config(rail={"idle_disable_s": 0.3}))
    try:
        await b.rail.home()
        await b.rail.move_to_um(500.0)
        assert b.rail.motor_enabled and b.rail.status()["motor_off_reason"] is None
        event = await _wait_motor_off(b)
        assert event["motor_off_reason"] == "idle"  # announced as a rail:status event
        assert event["homed"] and event["position_known"] and event["position_um"] == 500.0
        assert b.rig.level(b.rail.pins.enable) == 1  # active low: off
        await b.rail.move_to_um(700.0)  # no re-homing needed
        assert b.rail.status()["motor_off_reason"] is None
        b.assert_in_sync()
    finally:
        await close_bench(b)


async def test_idle_off_forgets_position_restores_the_strict_rule() -> None:
    b = await open_bench(make_config(rail={"idle_disable_s": 0.3, "idle_off_forgets_position": True}))
    try:
        await b.rail.home()
        await b.rail.move_to_um(500.0)
        event = await _wait_motor_off(b)
        assert event["motor_off_reason"] == "idle"
        assert not b.rail.homed and not b.rail.position_known
    finally:
        await close_bench(b)


async def test_status_events_at_least_10_hz_while_moving(bench: Bench) -> None:
    rail = bench.rail
    await rail.home()
    with bench.events.subscribe(maxsize=1000) as sub:
        t0 = time.monotonic()
        await rail.move_to_um(3_000.0)
        elapsed = time.monotonic() - t0
        positions = []
        while (ev := await sub.get(timeout_s=0.01)) is not None:
            if ev.kind == "rail:status" and ev.data["state"] == "moving":
                positions.append(ev.data["position_steps"])
    assert elapsed > 0.4
    assert len(positions) >= 10 * elapsed * 0.8  # ≥ 10 Hz, allowing for the first and last moments
    assert positions == sorted(positions)  # interpolated progress only goes one way on a one-way move


def test_ten_thousand_programs_never_exhaust_wave_ids_or_cbs() -> None:
    cfg = make_config(sim={"time_scale": 200.0})
    with running_rig(cfg) as rig, pigpio_client(rig) as pi:
        pins = cfg.pins
        kin = Kinematics(9_600, 64_000, 320)
        progs = [
            compile_program(
                plan_profile(n, kin, 10),
                direction=d,
                step_gpio=pins.step,
                dir_gpio=pins.dir,
                step_pulse_us=5,
                dir_setup_us=20,
            )
            for n, d in ((1, 1), (3, -1), (40, 1))
        ]
        for i in range(10_000):
            prog = progs[i % 3]
            while pi.wave_tx_busy():
                time.sleep(0.0002)
            loaded = load(pi, prog, marker_pulses(pins.step, pins.dir, prog.dir_high, 5), True)
            assert loaded.marker_id == len(prog.waves)  # ids restart from 0 after every clear
            pi.wave_chain(loaded.chain)
        store = rig.emu.store  # the emulator's wave memory, inspected directly
        assert len(store.waves) <= 4 and store.high["cbs"] < 1_000


async def test_connection_lost_mid_move_raises_and_marks_the_position_unknown(bench: Bench) -> None:
    rail = bench.rail
    await rail.home()
    task = rail.start_move_to_um(3_000.0)
    await asyncio.sleep(0.2)
    bench.rig.inject_disconnect()
    with pytest.raises(MotionHwUnavailable):
        await task
    assert rail.state == "fault" and not rail.position_known
