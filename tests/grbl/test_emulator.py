"""The grbl emulator speaks grbl 1.1's documented protocol (simulated rail, emulated clock)."""

from __future__ import annotations

import re

import pytest

from raild.drives.grbl.codes import PLANNER_BLOCKS, RX_BUFFER_BYTES
from raild.sim.grbl.machine import BANNER, UNLOCK_MSG
from tests.grbl.bench import Bench
from tests.grbl.conftest import grbl_config

SPM = 1600.0  # 200 × 8 / 1 mm (grbl_config)
ACCEL_SPS2 = 20.0 * SPM  # $120 = 20 mm/s²


@pytest.fixture
def bench() -> Bench:
    b = Bench(grbl_config(start_um=60_000.0))  # room to move towards min (grbl's machine space is negative)
    b.unlock()
    return b


def test_power_up_banner_alarm_lock_and_status_fields() -> None:
    b = Bench(grbl_config())
    out = b.send(b"\x18")
    assert out == f"\r\n{BANNER}\r\n{UNLOCK_MSG}\r\n"
    status = b.status()
    assert re.fullmatch(r"<Alarm\|MPos:0\.000,0\.000,0\.000\|FS:0,0\|WCO:0\.000,0\.000,0\.000>", status)
    assert "WCO" not in b.status()  # only every 30th report when idle
    assert "ok" in b.send(b"$10=3\n")
    assert re.search(r"\|Bf:15,128\|", b.status())


def test_settings_listing_and_rules(bench: Bench) -> None:
    out = bench.send(b"$$\n")
    lines = out.split("\r\n")
    assert "$100=1600.000" in lines and "$110=180.000" in lines and "$120=20.000" in lines
    assert "$22=1" in lines and lines[-2] == "ok"
    assert bench.send(b"$0=2\n") == "error:6\r\n"
    assert bench.send(b"$99=1\n") == "error:3\r\n"
    assert bench.send(b"$110=-5\n") == "error:4\r\n"
    assert bench.send(b"$22=0\n") == "ok\r\n"
    assert "$20=0" in bench.send(b"$$\n")  # soft limits dropped with homing
    assert bench.send(b"$20=1\n") == "error:10\r\n"
    assert bench.send(b"$H\n") == "error:5\r\n"


@pytest.mark.parametrize(
    ("line", "code"),
    [
        (b"G5\n", 20),
        (b"X\n", 2),
        (b"1\n", 1),
        (b"G0G1X-1\n", 21),
        (b"G1X-1\n", 22),
        (b"G0X-1X-2\n", 25),
        (b"G4\n", 28),
        (b"G1X-1F-5\n", 4),
        (b"$J X-1\n", 3),
        (b"$J=G91X-1\n", 22),
        (b"$J=G91M3X-1F10\n", 16),
        (b"$J=G91X-500F100\n", 15),
        (b"G1X-1F10" + b" " * 0 + b"(" + b"c" * 10 + b")" + b"Y0" * 40 + b"\n", 11),
    ],
)
def test_error_codes(bench: Bench, line: bytes, code: int) -> None:
    assert bench.send(line) == f"error:{code}\r\n"


def test_gcode_locked_in_alarm() -> None:
    b = Bench(grbl_config())
    assert b.send(b"G0X-1\n") == "error:9\r\n"
    assert b.send(b"$$\n").endswith("ok\r\n")


def test_realtime_bytes_are_picked_out_of_a_line(bench: Bench) -> None:
    out = bench.send(b"G91G1X-?0.5F120\n")
    lines = out.split("\r\n")
    assert lines[0].startswith("<Idle|") and lines[1] == "ok"
    bench.run_until(lambda: bench.m.state == "Idle")
    assert bench.status().startswith("<Idle|MPos:-0.500,")


def test_character_counting_buffer_and_planner_flow_control(bench: Bench) -> None:
    assert bench.send(b"$10=3\n") == "ok\r\n"
    lines = [b"G91G1X-0.01F60\n"] * (PLANNER_BLOCKS + 10)
    outstanding: list[int] = []
    oks = 0
    planner_full_seen = False
    while lines or outstanding:
        if lines and sum(outstanding) + len(lines[0]) <= RX_BUFFER_BYTES:
            outstanding.append(len(lines[0]))
            out = bench.send(lines.pop(0))
        else:
            out = bench.run(0.001)
            planner_full_seen |= "|Bf:0," in bench.status()
        for _ in range(out.count("ok")):
            outstanding.pop(0)
            oks += 1
    assert oks == PLANNER_BLOCKS + 10 and planner_full_seen
    assert bench.m.rx_overflow_bytes == 0
    bench.run_until(lambda: bench.m.state == "Idle")
    assert bench.m.stepper.position == round(-0.01 * SPM) * (PLANNER_BLOCKS + 10)
    assert bench.m.stepper.position == bench.true_steps - round(60 * SPM)


def test_receive_buffer_overflow_drops_bytes(bench: Bench) -> None:
    bench.send(b"G" * 200)
    assert len(bench.m.rx) == RX_BUFFER_BYTES and bench.m.rx_overflow_bytes == 200 - RX_BUFFER_BYTES


def test_feed_hold_decelerates_over_v_squared_over_2a_and_resumes_exactly(bench: Bench) -> None:
    bench.send(b"G91G1X-20F150\n")  # 2.5 mm/s, reached after 0.16 mm
    bench.run(1.0)
    v = bench.m.stepper.speed(bench.t_us)
    assert v == pytest.approx(2.5 * SPM, rel=1e-6)
    at_hold = bench.m.stepper.position
    true_at_hold = bench.true_steps
    bench.send(b"!")
    assert bench.status().startswith("<Hold:1|")
    bench.run_until(lambda: bench.m.stepper.hold_complete)
    assert bench.status().startswith("<Hold:0|")
    travelled = at_hold - bench.m.stepper.position
    assert travelled == pytest.approx(v * v / (2 * ACCEL_SPS2), abs=1.5)
    assert true_at_hold - bench.true_steps == travelled  # the rail took every step
    bench.send(b"~")
    bench.run_until(lambda: bench.m.state == "Idle")
    assert bench.m.stepper.position == -20 * SPM
    assert bench.sim.rail.lost_steps == 0


def test_jog_cancel_decelerates_flushes_and_goes_idle(bench: Bench) -> None:
    assert bench.send(b"$J=G91X-20F150\n$J=G91X-20F150\n") == "ok\r\nok\r\n"
    bench.run(1.0)
    assert bench.status().startswith("<Jog|")
    bench.send(b"\x85")
    bench.run_until(lambda: bench.m.state == "Idle")
    assert not bench.m.stepper.queue
    assert -40 * SPM < bench.m.stepper.position < -2 * SPM
    assert bench.send(b"G91G1X-0.1F60\n") == "ok\r\n"  # the parser follows the stopped position


def test_soft_reset_while_moving_alarms_but_not_in_hold_complete(bench: Bench) -> None:
    bench.send(b"G91G1X-10F150\n")
    bench.run(0.5)
    bench.send(b"!")
    bench.run_until(lambda: bench.m.stepper.hold_complete)
    kept = bench.m.stepper.position
    out = bench.send(b"\x18")
    assert out == f"\r\n{BANNER}\r\n" and bench.m.state == "Idle"
    assert bench.m.stepper.position == kept
    bench.send(b"G91G1X-10F150\n")
    bench.run(0.5)
    out = bench.send(b"\x18")
    assert out == f"ALARM:3\r\n\r\n{BANNER}\r\n{UNLOCK_MSG}\r\n"
    assert bench.send(b"G0X-1\n") == "error:9\r\n"


def test_hard_limit_alarm_needs_a_reset() -> None:
    b = Bench(grbl_config(), settings={20: 0})  # no soft limits: let it run into the switch
    b.unlock()
    b.send(b"G91G1X-10F150\n")  # the carriage starts 5 mm above the min switch
    out = b.run_until(lambda: b.m.critical)
    assert out.endswith("ALARM:1\r\n[MSG:Reset to continue]\r\n")
    assert abs(b.true_steps) <= 1  # stopped at the switch
    assert b.send(b"?") == "" and b.send(b"$X\n") == ""
    assert b.send(b"\x18") == f"\r\n{BANNER}\r\n{UNLOCK_MSG}\r\n"
    assert "Pn:X" in b.status()


def test_homing_finds_the_switch_and_sets_machine_position() -> None:
    b = Bench(grbl_config())
    b.send(b"$H\n")
    out = b.run_until(lambda: b.m.state != "Home" and b.m.pending is None)
    assert out == "ok\r\n"
    assert b.true_steps == round(1.0 * SPM)  # pulled off $27 = 1 mm from the trip point at 0
    assert b.status().startswith("<Idle|MPos:-99.000,")  # -$130 + $27


def test_homing_fails_without_a_switch_in_reach() -> None:
    b = Bench(grbl_config(), settings={130: 2.0})  # search 1.5 × 2 mm from 5 mm: no switch
    b.send(b"$H\n")
    out = b.run_until(lambda: b.m.state == "Alarm")
    assert out.startswith("ALARM:9\r\n") and UNLOCK_MSG in out


def test_dwell_waits_for_the_motion_to_end_then_its_time(bench: Bench) -> None:
    assert bench.send(b"G91G1X-1F60\nG4P0.5\n") == "ok\r\n"  # the G1 is planned, the G4 waits
    bench.run_until(lambda: bench.m.state == "Idle")  # 1 mm at 1 mm/s plus the ramps
    rest_us = bench.m.stepper.rest_since_us
    out = bench.run_until(lambda: bench.m.pending is None)
    assert out == "ok\r\n" and bench.t_us - rest_us == pytest.approx(0.5e6, abs=1001)
