"""Emulator features for streamed motion: padded waves (WVCAP), SYNC queueing with no
seam, wave_tx_at, and a glitch filter judged by edge times rather than pump times."""

from __future__ import annotations

import itertools
import random

import pigpio
import pytest

from raild.config import Config
from raild.sim import SimRig
from raild.sim import protocol as p
from raild.sim.core import Connection, Emulator, Hooks
from tests.sim.conftest import raw_command, wait_idle, wait_until

G = 17  # a free output pin


def _steps(intervals: list[int], gpio: int = G, high_us: int = 3) -> list[pigpio.pulse]:
    out = []
    for d in intervals:
        out += [pigpio.pulse(1 << gpio, 0, high_us), pigpio.pulse(0, 1 << gpio, d - high_us)]
    return out


def _padded(pi: pigpio.pi, pulses: list[pigpio.pulse], pct: int = 25) -> int:
    pi.wave_add_new()
    pi.wave_add_generic(pulses)
    return pi.wave_create_and_pad(pct)


def test_padded_waves_have_one_size_and_reuse_a_deleted_id(pi: pigpio.pi) -> None:
    pi.wave_clear()
    a = _padded(pi, _steps([100] * 10))
    b = _padded(pi, _steps([100] * 500))  # much bigger content, same padded size
    c = _padded(pi, _steps([100] * 3))
    assert (a, b, c) == (0, 1, 2)
    pi.wave_delete(a)  # not the top wave: a plain wave_create could not reuse it
    assert _padded(pi, _steps([77] * 42)) == a
    pi.wave_delete(b)
    pi.wave_add_new()
    pi.wave_add_generic(_steps([100] * 10))
    assert pi.wave_create() == 3  # an unpadded wave never fits a padded hole
    assert _padded(pi, _steps([50] * 7)) == b
    # Four 25 % waves fill the memory; a fifth does not fit.
    pi.wave_clear()
    for wid in range(4):
        assert _padded(pi, _steps([100])) == wid
    with pytest.raises(pigpio.error):
        _padded(pi, _steps([100]))


def test_padded_wave_too_big_and_bad_percentages(rig: SimRig, pi: pigpio.pi) -> None:
    pi.wave_clear()
    pi.wave_add_new()
    pi.wave_add_generic(_steps([100] * 2000))  # 8001 CBs: more than 25 % (5959)
    with pytest.raises(pigpio.error, match="No more CBs"):
        pi.wave_create_and_pad(25)
    import socket

    with socket.create_connection((rig.host, rig.port), timeout=2) as sock:
        assert raw_command(sock, p.WVCAP, 101) == p.PI_BAD_PARAM
        # a refused wave keeps its pulses (as in pigpiod): at 50 % they fit
        assert raw_command(sock, p.WVCAP, 50) == 0
        assert raw_command(sock, p.WVCAP, 50) == p.PI_EMPTY_WAVEFORM
        assert raw_command(sock, p.WVCAP, 0, 0, b"\x01\x02") == p.PI_BAD_WAVE_ID  # pigpiod's answer to odd shapes


def test_sync_waves_play_back_to_back_without_a_seam(rig: SimRig, pi: pigpio.pi) -> None:
    """A SYNC wave sent while an earlier one still plays starts exactly where the one
    before it ends. One the host sent late (everything queued had finished, as a loaded
    host can) starts when sent, as on pigpiod: that boundary may only be longer, never
    shorter. Which boundaries were in time is read from the emulator, not assumed."""
    rng = random.Random(3)
    pi.wave_clear()
    pi.set_mode(G, pigpio.OUTPUT)
    pi.write(G, 0)
    edges: list[int] = []
    cb = pi.callback(G, pigpio.RISING_EDGE, lambda g, level, t: edges.append(t))
    segments = [[rng.randint(150, 600) for _ in range(rng.randint(5, 40))] for _ in range(12)]
    sent: list[int] = []
    ids: list[int] = []
    in_time: list[bool] = []  # per wave after the first: queued behind one still playing
    for seg in segments:
        # keep at most two queued, deleting finished ones so ids are reused
        while len(ids) >= 3:
            at = pi.wave_tx_at()
            if at != ids[0]:
                pi.wave_delete(ids.pop(0))
        wid = _padded(pi, _steps(seg))
        pi.wave_send_using_mode(wid, pigpio.WAVE_MODE_ONE_SHOT_SYNC)
        if ids:
            # Answered after the send: an earlier wave still playing means the send found it playing.
            in_time.append(pi.wave_tx_at() in ids)
        ids.append(wid)
        sent += seg
    wait_idle(pi)
    total = len(sent)
    assert wait_until(lambda: len(edges) == total)
    cb.cancel()
    gaps = [(b - a) % 2**32 for a, b in itertools.pairwise(edges)]
    boundaries = list(itertools.accumulate(len(seg) for seg in segments[:-1]))  # first edge of waves 2..
    late = {first - 1 for first, ok in zip(boundaries, in_time, strict=True) if not ok}
    assert any(in_time), "no wave was queued in time: nothing about seams was tested"
    for i, (gap, want) in enumerate(zip(gaps, sent[:-1], strict=True)):
        if i in late:
            assert gap >= want, (i, gap, want)  # sent late: starts when sent, never early
        else:
            assert gap == want, (i, gap, want, in_time)  # exact inside waves and across in-time boundaries
    assert rig.emu.clobbered_waves == 0
    assert max(ids) <= 3  # padded ids were reused


def test_wave_tx_at_names_the_wave_playing(pi: pigpio.pi) -> None:
    pi.wave_clear()
    first = _padded(pi, _steps([5000] * 20))  # 100 ms
    second = _padded(pi, _steps([5000] * 20))
    assert pi.wave_tx_at() == p.NO_TX_WAVE
    pi.wave_send_using_mode(first, pigpio.WAVE_MODE_ONE_SHOT_SYNC)
    pi.wave_send_using_mode(second, pigpio.WAVE_MODE_ONE_SHOT_SYNC)
    assert pi.wave_tx_at() == first
    assert wait_until(lambda: pi.wave_tx_at() == second, 2.0)
    pi.wave_delete(first)  # deleting a finished wave does not disturb the one playing
    assert pi.wave_tx_at() == second
    assert wait_until(lambda: pi.wave_tx_at() == p.NO_TX_WAVE, 2.0)


# ----- the glitch filter, driven by hand on an emulator without a loop -----


class _ManualHooks(Hooks):
    def __init__(self) -> None:
        super().__init__()
        self.timers: list[tuple[int, object]] = []
        self.schedule_at = lambda emu_us, fn: self.timers.append((emu_us, fn))


def _filter_rig(steady_us: int) -> tuple[Emulator, _ManualHooks, list[tuple[int, int]]]:
    hooks = _ManualHooks()
    emu = Emulator(Config(), hooks)
    emu.gpio.set_pull(7, p.PUD_DOWN, 0)  # starts low
    reports: list[bytes] = []
    conn = Connection(reports.append)
    handle = emu.notifier.open(conn, reports.append)
    emu.notifier.begin(handle, 1 << 7)
    emu.notifier.set_filter(7, steady_us, 0)
    seen: list[tuple[int, int]] = []

    def collect() -> None:
        for _, data in emu.notifier.take_output():
            for off in range(0, len(data), 12):
                _, flags, tick, level = p.REPORT.unpack_from(data, off)
                if flags == 0:
                    seen.append(((level >> 7) & 1, (tick - emu.clock.tick_offset_us) % 2**32))

    emu._collect = collect  # type: ignore[attr-defined]
    return emu, hooks, seen


def _run_timers(emu: Emulator, hooks: _ManualHooks, upto_us: int) -> None:
    due = sorted(((t, fn) for t, fn in hooks.timers if t <= upto_us), key=lambda item: item[0])
    hooks.timers = [(t, fn) for t, fn in hooks.timers if t > upto_us]
    for _, fn in due:
        fn()  # type: ignore[operator]


@pytest.mark.parametrize("pump_us", [1, 700, 5_000, 50_000])
def test_glitch_filter_keeps_steady_levels_and_drops_glitches_at_any_spacing(pump_us: int) -> None:
    steady = 300
    emu, hooks, seen = _filter_rig(steady)
    rng = random.Random(pump_us)
    t = 1000
    level = 0
    expected: list[tuple[int, int]] = []
    reported = 0
    next_pump = t + pump_us
    for _ in range(400):
        hold = rng.choice([rng.randint(1, steady - 1), rng.randint(steady, 3 * steady)])
        level ^= 1
        emu.gpio.drive(7, level, t)
        if hold >= steady and level != reported:
            expected.append((level, t + steady))
            reported = level
        t += hold
        while next_pump <= t:  # the loop runs timers late, in batches
            _run_timers(emu, hooks, next_pump)
            next_pump += pump_us
        # an edge at t ends this hold; levels shorter than the filter never count
    _run_timers(emu, hooks, t + 10 * steady)
    last_hold_level = level
    if last_hold_level != reported:
        expected.append((last_hold_level, t - hold + steady))
    emu._collect()  # type: ignore[attr-defined]
    assert seen == expected


def test_ten_thousand_streamed_segments_reuse_three_padded_slots() -> None:
    # The drive's pattern without the socket: create the next, retire the finished, repeat.
    from raild.sim.waves import WaveStore

    store = WaveStore()
    rng = random.Random(9)
    queued: list[int] = []
    marker = None
    for n in range(10_000):
        if n % 500 == 0:  # a new run: wave_clear, the halt marker, then padded segments
            store.clear()
            queued.clear()
            store.new()
            store.add_generic([(1, 0, 5), (0, 1, 3)])
            marker = store.create()
        steps = 1_500 if n % 250 == 1 else rng.randint(1, 40)  # padded: the size never depends on it
        store.new()
        store.add_generic([(1 << 20, 0, 5), (0, 1 << 20, 100)] * steps)
        wid = store.create_padded(30, 30, 0)
        assert wid >= 0, (n, wid)
        queued.append(wid)
        if len(queued) > 2:
            assert store.delete(queued.pop(0)) == 0
        assert marker == 0 and wid <= 3
        assert len(store.waves) <= 4
