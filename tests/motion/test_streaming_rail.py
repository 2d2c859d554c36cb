"""Streamed motion on the virtual rail, through the real pigpio client (simulated):
stops decelerate and stay exact, underruns keep the count, e-stop answers are final,
padded waves are reused, and hold-to-jog."""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from collections.abc import Callable

import pytest

from raild.drives.pigpio.drive import PigpioDrive
from raild.motion.errors import EstopLatched, InvalidMove, MoveInterrupted, OutOfLimits, RailBusy
from raild.motion.rail import Rail

from .motion_bench import Bench, close_bench, make_config, open_bench

START_INTERVAL_US = 1e6 / (100.0 * 3.2)  # the default start speed, 100 µm/s


ZERO_STEPS = 6_400  # the virtual carriage starts at 2 000 µm, where these tests zero the rail


async def _switchless() -> Bench:
    b = await open_bench(make_config(homing={"switch": "none"}, sim={"start_position_um": 2_000.0}))
    b.rail.zero()
    return b


def _true(b: Bench) -> int:
    """The virtual rail's true position, in the zeroed rail's steps."""
    return b.true_steps - ZERO_STEPS


async def _until(predicate: Callable[[], bool], timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.002)


def _resync_after_giving_up(b: Bench) -> None:
    """The documented allowance for a host that froze just before a send (docs/internals.md,
    "late start"): the drive gave the position up and said why; the steps the stalled motor
    lost are accepted, the carriage is put back where the rail was zeroed, and it is zeroed."""
    assert not b.rail.position_known
    b.lost_accepted = b.rig.rail.lost_steps
    b.rig.rail.set_position_um(2_000.0)
    b.rail.zero()


def _tail_intervals(b: Bench, n: int) -> list[int]:
    log = b.rig.rail.pulse_log_tail(n + 1)
    return [y.emu_us - x.emu_us for x, y in itertools.pairwise(log)]


async def test_200_stops_at_random_phases_are_exact_and_decelerate() -> None:
    rng = random.Random(13)
    b = await _switchless()
    rail = b.rail
    try:
        unknown = ramps = 0
        drive = rail.drive
        assert isinstance(drive, PigpioDrive)
        for _ in range(200):
            here = rail.steps_to_um(rail.position_steps)
            target = min(max(here + rng.choice([-1, 1]) * rng.uniform(1.0, 1_500.0), 50.0), 6_000.0)
            speed = rng.choice([None, 500.0, 1_500.0])
            before = rail.position_steps
            underruns, late_stalls = drive.underruns, drive.late_stalls
            task = rail.start_move_to_um(target, speed_um_s=speed, approach=False)
            await asyncio.sleep(rng.uniform(0.0, 0.25))
            status = await rail.stop()
            message = ""
            try:
                await task
            except MoveInterrupted as exc:
                message = str(exc)
            if drive.late_stalls != late_stalls:
                assert "may have stalled" in message and not status["position_known"]
                _resync_after_giving_up(b)
                continue
            assert message in ("", "move stopped")
            unknown += not status["position_known"]
            assert status["position_known"] and status["state"] == "idle"
            assert rail.position_steps == _true(b)  # the virtual rail's true position
            moved = abs(rail.position_steps - before)
            # (an underrun ends the motion where the sent steps end: exact, but not a ramp)
            if moved > 200 and rail.position_steps != rail.um_to_steps(target) and rail.drive.underruns == underruns:
                last = _tail_intervals(b, 3)
                assert last == sorted(last), last  # the last intervals lengthen: a ramp, not a halt
                assert last[-1] > 0.5 * START_INTERVAL_US
                ramps += 1
        assert unknown == 0
        assert b.rig.rail.lost_steps == b.lost_accepted  # lost only ever with the position given up
        assert ramps > 50  # most stops came at speed (and without an underrun)
        assert b.rig.emu.clobbered_waves == 0
    finally:
        await close_bench(b)


async def test_stop_during_the_last_segment_is_exact() -> None:
    b = await _switchless()
    rail = b.rail
    try:
        target = rail.um_to_steps(2_000.0)
        task = rail.start_move_to_um(2_000.0, approach=False)
        await _until(lambda: rail.status()["position_steps"] >= target - 40)  # within the last segment
        await rail.stop()
        try:
            await task  # the plan's own ramp may already have brought it to the target
        except MoveInterrupted:
            pass
        assert rail.position_known and rail.position_steps == _true(b)
        assert target - 60 <= rail.position_steps <= target
        assert b.rig.rail.lost_steps == 0
    finally:
        await close_bench(b)


async def test_forced_underrun_keeps_the_position_exact_and_is_counted() -> None:
    b = await _switchless()
    rail, drive = b.rail, b.rail.drive
    try:
        stalls = {"left": 1}

        def stall() -> None:  # the host freezes (a GC pause, a CPU hog) before one send
            if drive.segments_sent > 6 and stalls["left"]:
                stalls["left"] -= 1
                time.sleep(0.15)

        drive.send_delay_hook = stall
        await rail.move_to_um(5_000.0, approach=False)
        assert rail.status()["underruns"] >= 1  # the forced one (a loaded machine may add its own)
        assert rail.position_known and rail.position_steps == rail.um_to_steps(5_000.0) == _true(b)
        assert b.rig.rail.lost_steps == 0
        # the motion after the underrun started from rest: an interval at the start speed
        gaps = [y.emu_us - x.emu_us for x, y in itertools.pairwise(b.rig.rail.pulse_log)]
        assert max(gaps) > 100_000  # the pause
        after = gaps[gaps.index(max(gaps)) + 1]
        assert after > 0.5 * START_INTERVAL_US
    finally:
        drive.send_delay_hook = None
        await close_bench(b)


async def test_estop_answer_equals_the_status_a_second_later() -> None:
    b = await _switchless()
    rail = b.rail
    try:
        for delay_s in (0.01, 0.1, 0.2, 0.35):
            task = rail.start_move_to_um(4_000.0 if rail.position_steps < 6_000 else 500.0, approach=False)
            await asyncio.sleep(delay_s)
            rail.estop()
            answer = await rail.estop_answer()
            with pytest.raises((MoveInterrupted, EstopLatched)):  # latched before the move's first step
                await task
            await asyncio.sleep(1.0)
            later = rail.status()
            assert answer["position_known"] == later["position_known"]
            assert answer["position_steps"] == later["position_steps"]
            if answer["position_known"]:
                assert answer["position_steps"] == _true(b)
            assert not later["motor_enabled"] and later["motor_off_reason"] == "estop"
            await rail.reset()
            if not rail.position_known:
                b.rig.rail.set_position_um(2_000.0)
                rail.zero()  # the carriage is back where the rail was zeroed
    finally:
        await close_bench(b)


async def test_padded_waves_are_reused_and_nothing_leaks() -> None:
    b = await _switchless()
    rail = b.rail
    try:
        rng = random.Random(5)
        drive = rail.drive
        assert isinstance(drive, PigpioDrive)
        for i in range(150):
            late_stalls = drive.late_stalls
            try:
                await rail.move_by_um(rng.choice([-1, 1]) * rng.uniform(0.3, 40.0) if i % 10 else 800.0, approach=False)
            except MoveInterrupted as exc:
                assert drive.late_stalls == late_stalls + 1 and "may have stalled" in str(exc)
                _resync_after_giving_up(b)
            assert len(b.rig.emu.store.waves) <= 4  # the marker and at most three padded segments
        assert b.rig.emu.clobbered_waves == 0
        assert rail.position_steps == _true(b)
        assert b.rig.rail.lost_steps == b.lost_accepted
    finally:
        await close_bench(b)


# ----- jog -----


async def _renew_jog_on_schedule(rail: Rail, renewals: int, every_s: float, in_time_s: float) -> float | None:
    """Jog + and renew it `renewals` times; the time the last renewal was asked, or None when one came late.

    A renewal that comes more than `in_time_s` after the previous one may meet the dead-man already
    fired (a loaded host can stall the whole loop for that long): the client broke its side of the
    contract, so that attempt proves nothing and the caller stops the rail and tries again."""
    t_asked = time.monotonic()
    await rail.jog("+")
    for _ in range(renewals):
        await asyncio.sleep(every_s)
        t_prev, t_asked = t_asked, time.monotonic()  # the dead-man counts from the renewal, not its answer
        if t_asked - t_prev > in_time_s:
            return None
        await rail.jog("+")
        assert rail.state == "moving"
    return t_asked


async def test_renewed_jog_runs_and_a_silent_client_stops_it_within_deadman_and_ramp() -> None:
    b = await _switchless()
    rail = b.rail
    try:
        for _attempt in range(3):
            start = rail.position_steps
            underruns = rail.drive.underruns
            stops_before = rail.jogger.deadman_stops
            t_asked = await _renew_jog_on_schedule(rail, renewals=8, every_s=0.1, in_time_s=0.4)
            if t_asked is None:  # the host stalled past the schedule: stop, and judge a fresh attempt
                await rail.stop()
                continue
            t_answered = time.monotonic()
            await _until(lambda: rail.state == "idle", 5.0)
            t_idle = time.monotonic()
            # dead-man (0.5 s) + the queued segments + the ramp down (~0.15 s at 3 mm/s, 20 mm/s²)
            assert t_idle - t_asked > 0.45
            assert t_idle - t_answered < 0.5 + 0.4
            assert rail.position_steps > start and rail.position_steps == _true(b)
            if rail.drive.underruns == underruns:  # (an underrun ends the motion abruptly: exact, no ramp)
                last = _tail_intervals(b, 3)
                assert last == sorted(last) and last[-1] > 0.5 * START_INTERVAL_US
            assert rail.jogger.deadman_stops == stops_before + 1
            return
        pytest.fail("three attempts in a row could not renew the jog every 0.1 s within 0.4 s: host too loaded")
    finally:
        await close_bench(b)


async def test_jog_reversal_decelerates_then_goes_back() -> None:
    b = await _switchless()
    rail = b.rail
    try:
        await rail.move_to_um(3_000.0, approach=False)
        underruns = rail.drive.underruns
        await rail.jog("+")
        await asyncio.sleep(0.3)
        top_before = rail.position_steps
        await rail.jog("-")
        for _ in range(6):
            await asyncio.sleep(0.1)
            await rail.jog("-")
        await rail.stop()
        assert rail.state == "idle" and rail.position_steps == _true(b)
        log = b.rig.rail.pulse_log
        flips = [i for i in range(1, len(log)) if log[i - 1].direction == 1 and log[i].direction == -1]
        assert len(flips) == 1
        flip = flips[0]
        before_flip = [r.emu_us for r in log][flip - 4 : flip]
        ends = [y - x for x, y in itertools.pairwise(before_flip)]
        if rail.drive.underruns == underruns:  # (an underrun ends the motion abruptly, exact but no ramp)
            assert ends == sorted(ends)  # slowed down before reversing
        assert rail.position_steps < top_before + rail.um_to_steps(2_000.0)
        assert b.rig.rail.lost_steps == 0
    finally:
        await close_bench(b)


async def test_jog_stops_at_the_soft_limit_and_refuses_beyond_it() -> None:
    b = await open_bench(make_config(homing={"switch": "none"}, rail={"soft_max_um": 3_000.0}))
    rail = b.rail
    try:
        rail.zero()
        await rail.move_to_um(2_700.0, approach=False)

        async def keep_jogging() -> None:
            while rail.jogger.active or rail.state == "moving":
                await rail.jog("+")
                await asyncio.sleep(0.1)

        await rail.jog("+")
        await asyncio.wait_for(keep_jogging(), 10.0)
        assert rail.position_steps == rail.um_to_steps(3_000.0) == _true(b)  # at the limit, at rest
        with pytest.raises(OutOfLimits):
            await rail.jog("+")
        await rail.jog("-")  # away from it is fine
        await rail.stop()
    finally:
        await close_bench(b)


async def test_jog_before_homing_is_capped_at_the_seek_speed_and_checks_input() -> None:
    b = await open_bench(make_config())
    rail = b.rail
    try:
        assert not rail.homed
        with pytest.raises(InvalidMove, match="seek speed"):
            await rail.jog("+", 2_500.0)
        with pytest.raises(InvalidMove, match="direction"):
            await rail.jog("up")
        await rail.jog("+", 1_000.0)
        await rail.stop()
        assert rail.state == "idle"
        task = rail.start_move_to_um(1_000.0) if rail.homed else None
        assert task is None
    finally:
        await close_bench(b)


async def test_jog_is_refused_while_a_move_drives_the_rail() -> None:
    b = await _switchless()
    rail = b.rail
    try:
        task = rail.start_move_to_um(3_000.0)
        await asyncio.sleep(0.05)
        with pytest.raises(RailBusy):
            await rail.jog("+")
        await task
    finally:
        await close_bench(b)


async def test_limit_switches_get_the_glitch_filter_and_a_short_glitch_is_ignored() -> None:
    b = await _switchless()
    rail = b.rail
    try:
        pins = rail.pins
        assert b.rig.emu.gpio.filter_us[pins.limit_min] == 300
        assert b.rig.emu.gpio.filter_us[pins.limit_max] == 300
        tripped = 1 if pins.limit_active_high else 0
        gpio = b.rig.emu.gpio
        released = gpio.driven.get(pins.limit_max)  # what the virtual switch drives when open
        with b.events.subscribe(maxsize=100) as sub:
            with b.rig.emu.synced() as now_us:  # stepper-cable noise: 50 µs (emulated) and gone
                gpio.drive(pins.limit_max, tripped, now_us)
                gpio.drive(pins.limit_max, released, now_us + 50)
            await asyncio.sleep(0.05)
            while (ev := await sub.get(timeout_s=0.01)) is not None:
                assert not (ev.kind == "rail:status" and ev.data["switches"]["max"])
        assert not rail.status()["switches"]["max"]
        b.rig.drive_input(pins.limit_max, tripped)  # held: reported once steady
        await _until(lambda: rail.status()["switches"]["max"], 2.0)
        b.rig.drive_input(pins.limit_max, released)
    finally:
        await close_bench(b)
