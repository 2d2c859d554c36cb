"""Waves through the real pigpio client: building, limits, ids, transmission on the clock."""

from __future__ import annotations

import itertools
import time

import pigpio
import pytest

from raild.sim import SimRig
from raild.sim import protocol as p
from raild.sim.testing import pigpio_client, running_rig
from tests.sim.conftest import wait_idle, wait_until
from tests.sim.test_protocol import raises_code

G = 17  # a free output pin (not wired to the rail)


def _train(n: int, gpio: int = G, high_us: int = 5, low_us: int = 45, lead_us: int = 0) -> list[pigpio.pulse]:
    pulses = [pigpio.pulse(0, 0, lead_us)] if lead_us else []
    for _ in range(n):
        pulses += [pigpio.pulse(1 << gpio, 0, high_us), pigpio.pulse(0, 1 << gpio, low_us)]
    return pulses


def _make(pi: pigpio.pi, pulses: list[pigpio.pulse]) -> int:
    pi.wave_add_new()
    pi.wave_add_generic(pulses)
    return pi.wave_create()


def test_add_merges_in_time_and_reports_stats(pi: pigpio.pi) -> None:
    pi.wave_clear()
    assert pi.wave_add_generic(_train(3, 17)) == 6
    # Another GPIO with the same timing merges into the same 6 pulses.
    assert pi.wave_add_generic(_train(3, 18)) == 6
    # Offset by 20 µs: new pulses interleave.
    assert pi.wave_add_generic(_train(3, 19, lead_us=20)) == 12  # the lead pulse lands on t=0
    assert pi.wave_get_micros() == 20 + 150
    assert pi.wave_get_pulses() == 12
    assert pi.wave_get_cbs() > 0
    assert pi.wave_get_max_pulses() == 12000
    assert pi.wave_get_max_micros() == 30 * 60 * 1_000_000
    assert pi.wave_get_max_cbs() == 25016
    assert pigpio._u2i(pigpio._pigpio_command(pi.sl, p.WVSP, 1, 0)) >= 12  # "high" has no pigpio.py method
    assert pigpio._u2i(pigpio._pigpio_command(pi.sl, p.WVSM, 1, 0)) >= 170
    pi.wave_add_new()
    assert pi.wave_get_pulses() == 0


def test_bad_stats_subcommands(rig: SimRig) -> None:
    import socket

    from tests.sim.conftest import raw_command

    with socket.create_connection((rig.host, rig.port), timeout=2) as sock:
        assert raw_command(sock, p.WVSM, 3) == p.PI_BAD_WVSM_COMMND
        assert raw_command(sock, p.WVSP, 3) == p.PI_BAD_WVSP_COMMND
        assert raw_command(sock, p.WVSC, 3) == p.PI_BAD_WVSC_COMMND


def test_twelve_thousand_pulse_limit(pi: pigpio.pi) -> None:
    pi.wave_clear()
    # Interleaved trains (each sharing t=0 with the others): 11 999 pulses fit, 12 000 do not (pigpio's buffer rule).
    a = [pigpio.pulse(1 << 17, 0, 10)] * 4000
    b = [pigpio.pulse(0, 0, 3)] + [pigpio.pulse(1 << 18, 0, 10)] * 4000  # its lead pulse shares t=0
    c_ok = [pigpio.pulse(0, 0, 6)] + [pigpio.pulse(1 << 19, 0, 10)] * 3999
    assert pi.wave_add_generic(a) == 4000
    assert pi.wave_add_generic(b) == 8000
    with raises_code(p.PI_TOO_MANY_PULSES):
        pi.wave_add_generic([pigpio.pulse(0, 0, 6)] + [pigpio.pulse(1 << 19, 0, 10)] * 4000)
    assert pi.wave_add_generic(c_ok) == 11999


def test_create_errors(pi: pigpio.pi) -> None:
    pi.wave_clear()
    with raises_code(p.PI_EMPTY_WAVEFORM):
        pi.wave_create()
    with raises_code(p.PI_BAD_WAVE_ID):
        pi.wave_delete(0)
    with raises_code(p.PI_BAD_WAVE_ID):
        pi.wave_send_once(3)
    wid = _make(pi, _train(2))
    with raises_code(p.PI_BAD_WAVE_MODE):
        pi.wave_send_using_mode(wid, 4)
    pi.wave_delete(wid)
    with raises_code(p.PI_BAD_WAVE_ID):
        pi.wave_send_once(wid)
    with raises_code(p.PI_BAD_WAVE_ID):
        pi.wave_delete(wid)


def test_non_permitted_gpios_are_masked(pi: pigpio.pi) -> None:
    pi.wave_clear()
    with raises_code(p.PI_SOME_PERMITTED):
        pi.wave_add_generic([pigpio.pulse(1 << 1 | 1 << 17, 0, 10)])


def test_wave_id_reuse_rule(pi: pigpio.pi) -> None:
    pi.wave_clear()
    w0 = _make(pi, _train(2))
    w1 = _make(pi, _train(3))
    w2 = _make(pi, _train(4))
    assert (w0, w1, w2) == (0, 1, 2)
    pi.wave_delete(w1)
    # A different size cannot take id 1's resources: it gets a new id.
    assert _make(pi, _train(5)) == 3
    # Exactly the same size reuses the deleted id.
    assert _make(pi, _train(3)) == 1
    # Deleting the top ids gives them (and any deleted ids just below) back.
    pi.wave_delete(3)
    pi.wave_delete(2)
    assert _make(pi, _train(7)) == 2


def test_250_wave_ids(pi: pigpio.pi) -> None:
    pi.wave_clear()
    for i in range(250):
        pi.wave_add_generic([pigpio.pulse(1 << G, 0, 1)])
        assert pi.wave_create() == i
    pi.wave_add_generic([pigpio.pulse(1 << G, 0, 1)])
    with raises_code(p.PI_NO_WAVEFORM_ID):
        pi.wave_create()
    pi.wave_clear()
    pi.wave_add_generic([pigpio.pulse(1 << G, 0, 1)])
    assert pi.wave_create() == 0


def test_control_block_budget(pi: pigpio.pi) -> None:
    pi.wave_clear()
    # 11 000 pulses, 22 001 CBs of the 23 836 waves may use. Every WVAG starts at t=0,
    # so each later chunk is pushed back by a lead delay.
    assert pi.wave_add_generic(_train(2500)) == 5000
    assert pi.wave_add_generic(_train(2500, lead_us=125_000)) == 10_000
    assert pi.wave_add_generic(_train(500, lead_us=250_000)) == 11_000
    assert pi.wave_create() == 0
    with raises_code(p.PI_TOO_MANY_CBS):
        _make(pi, _train(1000))
    assert _make(pi, _train(100)) == 1


def test_send_returns_cbs_and_busy_follows_the_clock(pi: pigpio.pi) -> None:
    pi.set_mode(G, pigpio.OUTPUT)
    pi.wave_clear()
    wid = _make(pi, _train(1000, high_us=50, low_us=150))  # 200 ms
    cbs = pi.wave_send_once(wid)
    assert cbs == 1 + 2000 * 2
    assert pi.wave_tx_busy() == 1
    assert pi.wave_tx_at() == wid
    time.sleep(0.05)
    assert pi.wave_tx_busy() == 1
    wait_idle(pi)
    assert pi.wave_tx_at() == p.NO_TX_WAVE


def test_edges_come_with_true_ticks() -> None:
    with running_rig(time_scale=5) as rig, pigpio_client(rig) as pi:
        pi.set_mode(G, pigpio.OUTPUT)
        pi.write(G, 0)
        ticks: list[tuple[int, int]] = []
        pi.callback(G, pigpio.EITHER_EDGE, lambda g, level, t: ticks.append((level, t)))
        pi.wave_clear()
        wid = _make(pi, _train(50, high_us=10, low_us=90))
        pi.wave_send_once(wid)
        wait_idle(pi)
        assert wait_until(lambda: len(ticks) == 100)
        levels = [lv for lv, _ in ticks]
        assert levels == [1, 0] * 50
        diffs = [(b - a) % 2**32 for (_, a), (_, b) in itertools.pairwise(ticks)]
        assert diffs == [10, 90] * 49 + [10]


def test_halt_truncates_at_the_clock() -> None:
    with running_rig(time_scale=2) as rig, pigpio_client(rig) as pi:
        pi.set_mode(G, pigpio.OUTPUT)
        rises: list[int] = []
        pi.callback(G, pigpio.RISING_EDGE, lambda g, level, t: rises.append(t))
        pi.wave_clear()
        wid = _make(pi, _train(2000, high_us=10, low_us=490))  # 1 s emulated
        pi.wave_send_once(wid)
        time.sleep(0.1)
        before = pi.get_current_tick()
        pi.wave_tx_stop()
        after = pi.get_current_tick()
        assert pi.wave_tx_busy() == 0
        time.sleep(0.05)
        n = len(rises)
        assert 100 <= n <= 1000
        # Every edge due before the halt was sent, none after it was.
        assert (rises[-1] - before) % 2**32 < 2**31 or (before - rises[-1]) % 2**32 < 500
        assert (after - rises[-1]) % 2**32 < 2**31
        assert all((y - x) % 2**32 == 500 for x, y in itertools.pairwise(rises))
        time.sleep(0.05)
        assert len(rises) == n  # nothing after the halt


def test_new_send_replaces_the_running_wave(pi: pigpio.pi) -> None:
    pi.set_mode(G, pigpio.OUTPUT)
    pi.wave_clear()
    long_wave = _make(pi, _train(1000, high_us=100, low_us=9900))  # 10 s
    short_wave = _make(pi, _train(20, high_us=100, low_us=4900))  # 100 ms
    pi.wave_send_once(long_wave)
    assert pi.wave_tx_at() == long_wave
    pi.wave_send_once(short_wave)
    assert pi.wave_tx_at() == short_wave
    wait_idle(pi, 2.0)  # only the short wave's time: the long one is gone


def test_sync_mode_follows_and_repeat_repeats() -> None:
    with running_rig(time_scale=1) as rig, pigpio_client(rig) as pi:
        pi.set_mode(G, pigpio.OUTPUT)
        rises: list[int] = []
        pi.callback(G, pigpio.RISING_EDGE, lambda g, level, t: rises.append(t))
        pi.wave_clear()
        a = _make(pi, _train(10, high_us=10, low_us=9990))  # 100 ms: still running when b is queued
        b = _make(pi, _train(5, high_us=10, low_us=90))
        pi.wave_send_using_mode(a, pigpio.WAVE_MODE_ONE_SHOT)
        pi.wave_send_using_mode(b, pigpio.WAVE_MODE_ONE_SHOT_SYNC)
        wait_idle(pi)
        assert wait_until(lambda: len(rises) == 15)
        # b starts right where a ends: 10 000 µs after a's last rising edge.
        assert (rises[10] - rises[9]) % 2**32 == 10_000
        rises.clear()
        pi.wave_send_repeat(b)
        assert wait_until(lambda: len(rises) >= 12)
        assert pi.wave_tx_busy() == 1
        pi.wave_tx_stop()
        assert pi.wave_tx_busy() == 0
        assert all((y - x) % 2**32 == 100 for x, y in itertools.pairwise(rises))


def test_waves_keep_running_when_their_client_goes(rig: SimRig) -> None:
    with pigpio_client(rig) as pi:
        pi.set_mode(G, pigpio.OUTPUT)
        pi.wave_clear()
        wid = _make(pi, _train(500, high_us=100, low_us=900))
        pi.wave_send_once(wid)
    with pigpio_client(rig) as pi:
        assert pi.wave_tx_busy() == 1
        pi.wave_tx_stop()


@pytest.mark.parametrize("mode", [pigpio.WAVE_MODE_REPEAT_SYNC])
def test_sync_behind_a_repeating_wave_ends_the_repeat(pi: pigpio.pi, mode: int) -> None:
    pi.set_mode(G, pigpio.OUTPUT)
    pi.wave_clear()
    a = _make(pi, _train(2, high_us=10, low_us=490))
    b = _make(pi, _train(3, high_us=10, low_us=90))
    pi.wave_send_repeat(a)
    pi.wave_send_using_mode(b, mode)
    assert wait_until(lambda: pi.wave_tx_at() == b, 2.0)
    pi.wave_tx_stop()


def test_out_of_line_word_budget(pi: pigpio.pi) -> None:
    # Pulses that both set and clear GPIOs need two OOL words each; 9000 of them need 18 000
    # of the 15 958 waves may use, while their 9 002 CBs would fit.
    pi.wave_clear()
    both = pigpio.pulse(1 << 17, 1 << 18, 0)
    assert pi.wave_add_generic([both] * 5000) == 5000
    assert pi.wave_add_generic([pigpio.pulse(0, 0, 1)] + [both] * 4000) == 9000
    with raises_code(p.PI_TOO_MANY_OOL):
        pi.wave_create()
    pi.wave_add_new()
    assert pi.wave_add_generic([both] * 5000) == 5000
    assert pi.wave_create() == 0
