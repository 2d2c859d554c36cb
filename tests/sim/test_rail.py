"""The virtual rail on the emulator's pins, driven through the real pigpio client."""

from __future__ import annotations

import time

import pigpio
import pytest

from raild.config import Config
from raild.sim.testing import pigpio_client, running_rig
from tests.sim.conftest import wait_until
from tests.sim.rail_helpers import (
    DIR,
    EN,
    LIMIT_MAX,
    LIMIT_MIN,
    STEP,
    UM_PER_STEP,
    intervals_at,
    prepare,
    run_steps,
    trapezoid,
)


def test_steps_move_the_carriage_both_ways() -> None:
    with running_rig(time_scale=50) as rig, pigpio_client(rig) as pi:
        prepare(pi)
        start = rig.rail.true_position_steps
        assert rig.rail.true_position_um == pytest.approx(50_000.0)
        run_steps(pi, intervals_at(100.0, 300), +1)
        assert rig.rail.true_position_steps == start + 300
        run_steps(pi, intervals_at(100.0, 120), -1)
        assert rig.rail.true_position_steps == start + 180
        assert rig.rail.true_position_um == pytest.approx(50_000.0 + 180 * UM_PER_STEP)
        assert rig.rail.lost_steps == 0 and rig.rail.violations == []
        log = rig.rail.pulse_log
        assert [r.direction for r in log] == [1] * 300 + [-1] * 120


def test_min_switch_trips_at_zero_notifies_and_hard_stop_blocks() -> None:
    with running_rig(time_scale=50) as rig, pigpio_client(rig) as pi:
        prepare(pi)
        rig.rail.set_position_um(10 * UM_PER_STEP)
        assert pi.read(LIMIT_MIN) == 0 and rig.rail.switch_states() == {"min": False, "max": False}
        edges: list[tuple[int, int]] = []
        pi.callback(LIMIT_MIN, pigpio.EITHER_EDGE, lambda g, level, t: edges.append((level, t)))
        run_steps(pi, intervals_at(200.0, 30), -1)
        assert rig.rail.true_position_steps == -20
        assert pi.read(LIMIT_MIN) == 1  # active high, tripped
        assert rig.rail.switch_states()["min"]
        assert wait_until(lambda: len(edges) == 1)
        # The report carries the tick of the very step that reached 0 µm.
        at_zero = next(r for r in rig.rail.pulse_log if r.position_steps == 0)
        assert edges[0] == (1, at_zero.tick)
        # The hard stop 1 mm beyond the end: further steps are lost there.
        run_steps(pi, intervals_at(300.0, 3500), -1)
        assert rig.rail.true_position_um == pytest.approx(-1000.0)
        assert rig.rail.lost_steps_by_reason["hard_stop"] == 3500 - (3200 - 20)
        # Back off: the switch releases.
        run_steps(pi, intervals_at(300.0, 3300), +1)
        assert pi.read(LIMIT_MIN) == 0
        assert wait_until(lambda: len(edges) == 2) and edges[1][0] == 0


def test_max_switch_trips_at_travel() -> None:
    with running_rig(time_scale=50) as rig, pigpio_client(rig) as pi:
        prepare(pi)
        travel_um = rig.config.rail.travel_mm * 1000
        rig.rail.set_position_um(travel_um - 5 * UM_PER_STEP)
        assert pi.read(LIMIT_MAX) == 0
        run_steps(pi, intervals_at(200.0, 5), +1)
        assert pi.read(LIMIT_MAX) == 1
        assert rig.rail.switch_states() == {"min": False, "max": True}


def test_switch_wiring_follows_pulls_and_polarity() -> None:
    # Active-low switch closing to ground, pull-up: tripped reads 0.
    base = Config().model_dump()
    base["pins"].update(limit_active_high=False)
    cfg = Config.model_validate(base)
    with running_rig(cfg) as rig, pigpio_client(rig) as pi:
        prepare(pi)
        assert pi.read(LIMIT_MIN) == 1
        rig.rail.set_position_um(-5.0)
        assert pi.read(LIMIT_MIN) == 0
    # Active-high NC switch to ground: tripped = open, so the level comes from the pull.
    with running_rig() as rig, pigpio_client(rig) as pi:
        prepare(pi)
        pi.set_pull_up_down(LIMIT_MIN, pigpio.PUD_DOWN)  # wrong pull for this wiring
        rig.rail.set_position_um(-5.0)
        assert pi.read(LIMIT_MIN) == 0  # a tripped switch that reads "not tripped": the bug shows


def test_too_fast_from_rest_stalls_and_loses_steps() -> None:
    with running_rig(time_scale=20) as rig, pigpio_client(rig) as pi:
        prepare(pi)
        start = rig.rail.true_position_steps
        run_steps(pi, intervals_at(20_000.0, 2000), +1)  # above motor_max_speed_um_s (12 000)
        lost = rig.rail.lost_steps_by_reason["stall"]
        assert lost > 1900
        assert rig.rail.true_position_steps - start == 2000 - lost


def test_too_much_acceleration_loses_steps() -> None:
    with running_rig(time_scale=20) as rig, pigpio_client(rig) as pi:
        prepare(pi)
        start = rig.rail.true_position_steps
        # 100 µm/s, then at once 5000 µm/s (under the speed limit, far over the acceleration limit).
        run_steps(pi, intervals_at(100.0, 20) + intervals_at(5000.0, 2000), +1)
        lost = rig.rail.lost_steps_by_reason["stall"]
        assert lost > 1900
        assert rig.rail.true_position_steps - start == 2020 - lost


def test_a_proper_trapezoid_keeps_every_step() -> None:
    with running_rig(time_scale=20) as rig, pigpio_client(rig) as pi:
        prepare(pi)
        start = rig.rail.true_position_steps
        profile = trapezoid(5_000, v0=100.0, vmax=3000.0, accel=20_000.0)
        run_steps(pi, profile, +1)
        assert rig.rail.lost_steps == 0
        assert rig.rail.true_position_steps - start == 5_000
        # The same distance at 10 × that acceleration, with the speed limit near the motor's, also
        # stays within the motor (its limits are 12 000 µm/s and 200 000 µm/s²).
        profile = trapezoid(5_000, v0=100.0, vmax=10_000.0, accel=150_000.0)
        run_steps(pi, profile, -1)
        assert rig.rail.lost_steps == 0
        assert rig.rail.true_position_steps == start


def test_a_stalled_motor_resumes_at_a_startable_rate() -> None:
    with running_rig(time_scale=20) as rig, pigpio_client(rig) as pi:
        prepare(pi)
        start = rig.rail.true_position_steps
        run_steps(pi, intervals_at(100.0, 5) + intervals_at(20_000.0, 500) + intervals_at(100.0, 50), +1)
        lost = rig.rail.lost_steps_by_reason["stall"]
        assert lost >= 490
        assert rig.rail.true_position_steps - start == 555 - lost
        assert not rig.rail.stalled
        outcomes = [r.outcome for r in rig.rail.pulse_log]
        # The first "slow" step still follows a fast interval; the 49 after it all move.
        assert outcomes[-49:] == ["moved"] * 49


def test_steps_while_disabled_are_lost() -> None:
    with running_rig(time_scale=20) as rig, pigpio_client(rig) as pi:
        prepare(pi, enabled=False)
        start = rig.rail.true_position_steps
        run_steps(pi, intervals_at(100.0, 40), +1)
        assert rig.rail.true_position_steps == start
        assert rig.rail.lost_steps_by_reason["disabled"] == 40
        pi.write(EN, 0)
        run_steps(pi, intervals_at(100.0, 40), +1)
        assert rig.rail.true_position_steps == start + 40


def test_dir_setup_violation_is_recorded() -> None:
    with running_rig(time_scale=20, min_dir_setup_us=10) as rig, pigpio_client(rig) as pi:
        prepare(pi)
        run_steps(pi, intervals_at(100.0, 3), +1, dir_setup_us=20)
        assert rig.rail.violations == []
        run_steps(pi, intervals_at(100.0, 3), -1, dir_setup_us=4)
        violations = rig.rail.violations
        assert [v.kind for v in violations] == ["dir_setup"]
        assert "4 µs" in violations[0].detail


def test_short_step_pulses_are_ignored_and_recorded() -> None:
    with running_rig(time_scale=20, min_pulse_us=3) as rig, pigpio_client(rig) as pi:
        prepare(pi)
        start = rig.rail.true_position_steps
        run_steps(pi, intervals_at(100.0, 10), +1, high_us=2)
        assert rig.rail.true_position_steps == start
        assert rig.rail.lost_steps_by_reason["short_pulse"] == 10
        assert {v.kind for v in rig.rail.violations} == {"step_pulse_too_short"}
        run_steps(pi, intervals_at(100.0, 10), +1, high_us=3)
        assert rig.rail.true_position_steps == start + 10


def test_backlash_takes_up_play_after_a_reversal() -> None:
    with running_rig(time_scale=20, backlash_um=10 * UM_PER_STEP) as rig, pigpio_client(rig) as pi:
        prepare(pi)
        start = rig.rail.true_position_steps
        # The rig starts as if it last moved negative: the first 10 steps take up the play.
        run_steps(pi, intervals_at(100.0, 30), +1)
        assert rig.rail.true_position_steps == start + 20
        assert rig.rail.motor_position_steps == start + 30
        run_steps(pi, intervals_at(100.0, 25), -1)
        assert rig.rail.true_position_steps == start + 5  # 10 steps of play again, then 15 of travel
        assert rig.rail.motor_position_steps == start + 5


def test_shutter_focus_triggers_and_captures_record_true_position() -> None:
    with running_rig(time_scale=20) as rig, pigpio_client(rig) as pi:
        prepare(pi)
        shutter, focus = rig.config.pins.shutter, rig.config.pins.focus
        pi.write(shutter, 0)
        pi.write(focus, 0)
        run_steps(pi, intervals_at(100.0, 16), +1)
        before = pi.get_current_tick()
        pi.write(focus, 1)
        pi.write(shutter, 1)
        pi.write(shutter, 0)
        pi.write(focus, 0)
        cap = rig.record_capture("frame-0001")
        trig = rig.rail.triggers
        assert [(t.kind, t.active) for t in trig] == [
            ("focus", True),
            ("shutter", True),
            ("shutter", False),
            ("focus", False),
            ("capture", True),
        ]
        assert all(t.position_um == pytest.approx(50_005.0) for t in trig)
        assert all((t.tick - before) % 2**32 < 10_000_000 for t in trig)
        assert cap.label == "frame-0001" and cap == trig[-1]
        rig.rail.reset_counters()
        assert rig.rail.triggers == []


def test_real_time_move_takes_its_time() -> None:
    with running_rig(time_scale=1) as rig, pigpio_client(rig) as pi:
        prepare(pi)
        start = rig.rail.true_position_steps
        t0 = time.monotonic()
        run_steps(pi, intervals_at(100.0, 400), +1, wait=False)  # 400 × 3125 µs = 1.25 s
        time.sleep(0.3)
        assert pi.wave_tx_busy() == 1
        midway = rig.rail.true_position_steps - start
        assert 20 < midway < 380
        assert wait_until(lambda: pi.wave_tx_busy() == 0, 5.0)
        elapsed = time.monotonic() - t0
        assert 1.25 <= elapsed < 4.0
        assert rig.rail.true_position_steps - start == 400
        span = rig.rail.pulse_log[-1].emu_us - rig.rail.pulse_log[0].emu_us
        assert span == 399 * 3125


def test_step_edges_on_watched_outputs_reach_clients() -> None:
    with running_rig(time_scale=20) as rig, pigpio_client(rig) as pi:
        prepare(pi)
        rises: list[int] = []
        dirs: list[int] = []
        pi.callback(STEP, pigpio.RISING_EDGE, lambda g, level, t: rises.append(t))
        pi.callback(DIR, pigpio.EITHER_EDGE, lambda g, level, t: dirs.append(level))
        run_steps(pi, intervals_at(100.0, 25), +1)
        run_steps(pi, intervals_at(100.0, 5), -1)
        assert wait_until(lambda: len(rises) == 30)
        assert [r.tick for r in rig.rail.pulse_log] == rises
        assert dirs == [1, 0]


def test_bad_input_to_the_inspection_api_is_refused(rig) -> None:
    before = rig.rail.true_position_steps
    with pytest.raises(ValueError, match="finite"):
        rig.rail.set_position_um(float("nan"))
    with pytest.raises(ValueError, match="0-53"):
        rig.drive_input(60, 1)
    with pytest.raises(ValueError, match="level must be"):
        rig.drive_input(7, 2)
    assert rig.rail.true_position_steps == before
    rig.rail.set_position_um(1e9)  # beyond the hard stop: ends at the stop
    assert rig.rail.true_position_um == pytest.approx(rig.config.rail.travel_mm * 1000 + 1000.0)
