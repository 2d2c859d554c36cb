"""Wave chains through the real pigpio client: structure, timing, limits, halts."""

from __future__ import annotations

import time
import tracemalloc

import pigpio
import pytest

from raild.sim import protocol as p
from raild.sim.testing import pigpio_client, running_rig
from raild.sim.timeline import Program, parse_chain
from raild.sim.waves import WaveStore
from tests.sim.conftest import wait_idle, wait_until
from tests.sim.test_protocol import raises_code

STEP, DIR, EN = 20, 21, 16  # the default wiring of the virtual rail
# A motor that never stalls, for tests about chain mechanics rather than the stall model.
STRONG = {"motor_max_speed_um_s": 1e6, "motor_max_accel_um_s2": 1e12}


def _steps_wave(pi: pigpio.pi, n: int, period_us: int, high_us: int = 5) -> int:
    pi.wave_add_new()
    pulses = []
    for _ in range(n):
        pulses += [pigpio.pulse(1 << STEP, 0, high_us), pigpio.pulse(0, 1 << STEP, period_us - high_us)]
    pi.wave_add_generic(pulses)
    return pi.wave_create()


def _loop(body: list[int], count: int) -> list[int]:
    return [255, 0, *body, 255, 1, count & 255, count >> 8]


def _delay(us: int) -> list[int]:
    return [255, 2, us & 255, us >> 8]


def _rail_ready(pi: pigpio.pi) -> None:
    for g in (STEP, DIR, EN):
        pi.set_mode(g, pigpio.OUTPUT)
    pi.write(EN, 0)  # enable (active low)
    pi.write(DIR, 1)
    pi.write(STEP, 0)
    time.sleep(0.001)


def test_nested_loops_and_delays_time_and_count() -> None:
    with running_rig(time_scale=20, **STRONG) as rig, pigpio_client(rig) as pi:
        _rail_ready(pi)
        pi.wave_clear()
        a = _steps_wave(pi, 10, 1000)  # 10 ms
        b = _steps_wave(pi, 5, 500)  # 2.5 ms
        start_pos = rig.rail.true_position_steps
        rig.rail.reset_counters()
        # a, then 3 × (2 × b, 4 ms delay), then a 10 ms delay, then a again.
        chain = [a, *_loop([*_loop([b], 2), *_delay(4000)], 3), *_delay(10_000), a]
        pi.wave_chain(chain)
        assert pi.wave_tx_busy() == 1
        wait_idle(pi)
        steps = 10 + 3 * 2 * 5 + 10
        assert rig.rail.true_position_steps - start_pos == steps
        log = rig.rail.pulse_log
        assert len(log) == steps and all(r.outcome == "moved" for r in log)
        # First step rise to last step rise: everything but the last step's own period.
        span_us = log[-1].emu_us - log[0].emu_us
        assert span_us == 10_000 + 3 * (2 * 2500 + 4000) + 10_000 + 9 * 1000


def test_wave_tx_at_inside_a_chain() -> None:
    with running_rig(time_scale=1, **STRONG) as rig, pigpio_client(rig) as pi:
        _rail_ready(pi)
        pi.wave_clear()
        a = _steps_wave(pi, 20, 1000)  # 20 ms
        # `a` repeats until halted, so the poll cannot miss it however late a slow host asks
        # (a single 20 ms pass is a window a loaded host's polling can step over).
        pi.wave_chain([*_delay(65_000), *_delay(65_000), *_delay(65_000), 255, 0, a, 255, 3])
        assert pi.wave_tx_at() == p.WAVE_NOT_FOUND  # in the chain's delay
        assert wait_until(lambda: pi.wave_tx_at() == a, 1.0)
        pi.wave_tx_stop()
        assert pi.wave_tx_busy() == 0
        assert pi.wave_tx_at() == p.NO_TX_WAVE
        pi.wave_chain([*_delay(1000), a])  # a chain that ends by itself leaves nothing named
        wait_idle(pi)
        assert pi.wave_tx_at() == p.NO_TX_WAVE


def test_loop_count_zero_skips_and_one_runs_once() -> None:
    with running_rig(time_scale=20, **STRONG) as rig, pigpio_client(rig) as pi:
        _rail_ready(pi)
        pi.wave_clear()
        a = _steps_wave(pi, 3, 200)
        start = rig.rail.true_position_steps
        pi.wave_chain([*_loop([a], 0), *_loop([a], 1), *_loop([a], 4)])
        wait_idle(pi)
        assert rig.rail.true_position_steps - start == 3 * 5


def test_full_travel_chain() -> None:
    """320 000 microsteps through nested loops reach the carriage, every one."""
    with running_rig(time_scale=1000, **STRONG) as rig, pigpio_client(rig) as pi:
        rig.rail.set_position_um(0.0)
        _rail_ready(pi)
        pi.wave_clear()
        w = _steps_wave(pi, 100, 20)  # 50 000 steps/s
        rig.rail.reset_counters()
        pi.wave_chain(_loop(_loop([w], 100), 32))  # 100 × 100 × 32 = 320 000 steps
        wait_idle(pi, 60.0)
        assert rig.rail.lost_steps == 0
        assert rig.rail.true_position_steps == 320_000


def test_chain_playback_memory_does_not_grow_with_loop_count() -> None:
    store = WaveStore()
    pulses = [(1 << STEP, 0, 5), (0, 1 << STEP, 15)] * 100
    store.add_generic(pulses)
    assert store.create() == 0

    def peak_while_playing(outer: int) -> tuple[int, int]:
        program = Program(parse_chain(bytes(_loop(_loop([0], 100), outer)), store))
        tracemalloc.start()
        try:
            edges = sum(1 for _, on, off, _ in program.events(0) if on or off)
            return edges, tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    small_edges, small_peak = peak_while_playing(1)
    big_edges, big_peak = peak_while_playing(32)
    assert (small_edges, big_edges) == (20_000, 640_000)
    assert big_peak < small_peak + 64 * 1024  # 32 × the edges, no more memory


def test_halt_mid_chain_matches_pulses_emitted() -> None:
    with running_rig(time_scale=5, **STRONG) as rig, pigpio_client(rig) as pi:
        _rail_ready(pi)
        rises: list[int] = []
        pi.callback(STEP, pigpio.RISING_EDGE, lambda g, level, t: rises.append(t))
        pi.wave_clear()
        w = _steps_wave(pi, 50, 400)
        start = rig.rail.true_position_steps
        pi.wave_chain(_loop([w, *_delay(1000)], 100))  # 2.1 s emulated
        time.sleep(0.1)
        pi.wave_tx_stop()
        moved = rig.rail.true_position_steps - start
        assert 0 < moved < 5000
        time.sleep(0.05)
        assert len(rises) == moved
        assert rig.rail.true_position_steps - start == moved  # nothing more after the halt


@pytest.mark.parametrize(
    ("chain", "code"),
    [
        ([255, 1, 2, 0], p.PI_BAD_CHAIN_LOOP),  # loop end without a begin
        ([255, 0, 255, 1, 2, 0], p.PI_BAD_CHAIN_LOOP),  # empty loop
        ([255, 0, 0, 255, 3, 0], p.PI_BAD_FOREVER),  # forever not last
        ([255], p.PI_BAD_CHAIN_CMD),
        ([255, 0, 0, 255, 1, 2], p.PI_BAD_CHAIN_CMD),  # incomplete loop end
        ([255, 2, 1], p.PI_BAD_CHAIN_CMD),  # incomplete delay
        ([255, 7], p.PI_BAD_CHAIN_CMD),
        ([9], p.PI_BAD_WAVE_ID),
        ([255, 0] * 11 + [0], p.PI_CHAIN_NESTING),
        ([0] * 599, p.PI_CHAIN_TOO_BIG),
        ([*_loop([0], 2)] * 21, p.PI_CHAIN_COUNTER),
    ],
)
def test_chain_errors(chain: list[int], code: int) -> None:
    with running_rig() as rig, pigpio_client(rig) as pi:
        pi.wave_clear()
        pi.wave_add_generic([pigpio.pulse(1 << 17, 0, 10), pigpio.pulse(0, 1 << 17, 10)])
        assert pi.wave_create() == 0
        with raises_code(code):
            pi.wave_chain(chain)
        assert pi.wave_tx_busy() == 0


def test_chain_limits_that_fit() -> None:
    with running_rig(time_scale=50) as rig, pigpio_client(rig) as pi:
        pi.wave_clear()
        pi.wave_add_generic([pigpio.pulse(1 << 17, 0, 1), pigpio.pulse(0, 1 << 17, 1)])
        assert pi.wave_create() == 0
        pi.wave_chain([0] * 598)  # start CB + 598 + final CB = 600 (the 599th wave id would not fit)
        wait_idle(pi)
        pi.wave_chain([*_loop([0], 2)] * 20)  # 20 counters
        wait_idle(pi)
        nested: list[int] = [0]
        for _ in range(10):
            nested = [255, 0, *nested, 255, 1, 1, 0]
        pi.wave_chain(nested)  # 10 levels of nesting
        wait_idle(pi)
        pi.wave_chain([*_loop([0], 65535)])  # the largest loop count
        pi.wave_tx_stop()
        # The largest delay, then a loop until halted: the chain is still busy when asked,
        # however late a busy host asks (65 ms of emulated delay is 1.3 ms here).
        pi.wave_chain([*_delay(65535), 255, 0, 0, 255, 3])
        assert pi.wave_tx_busy() == 1
        pi.wave_tx_stop()


def test_forever_loop_until_halt() -> None:
    with running_rig(time_scale=20, **STRONG) as rig, pigpio_client(rig) as pi:
        _rail_ready(pi)
        pi.wave_clear()
        w = _steps_wave(pi, 4, 250)
        start = rig.rail.true_position_steps
        pi.wave_chain([255, 0, w, 255, 3])
        time.sleep(0.05)
        assert pi.wave_tx_busy() == 1
        pi.wave_tx_stop()
        assert rig.rail.true_position_steps - start > 100


def test_zero_length_waves_cannot_freeze_the_clock() -> None:
    with running_rig(time_scale=50) as rig, pigpio_client(rig) as pi:
        pi.set_mode(17, pigpio.OUTPUT)
        pi.wave_clear()
        pi.wave_add_generic([pigpio.pulse(1 << 17, 0, 0), pigpio.pulse(0, 1 << 17, 0)])
        wid = pi.wave_create()
        pi.wave_send_repeat(wid)
        assert pi.wave_tx_busy() == 1
        pi.wave_tx_stop()
        pi.wave_chain(_loop(_loop([wid], 65535), 65535))
        assert pi.get_pigpio_version() == 79  # still answering
        pi.wave_tx_stop()
        assert rig.tick() > 0
        assert rig.emu.engine.lag_count > 0  # playback fell behind the clock and says so
