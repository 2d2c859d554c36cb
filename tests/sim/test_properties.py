"""Properties of the pure parts: pulse merging and chain parsing."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from raild.sim import protocol as p
from raild.sim.pulselog import OUTCOMES, PulseLog
from raild.sim.timeline import ChainError, Program, parse_chain
from raild.sim.waves import WaveStore, merge_pulses

pulse = st.tuples(st.sampled_from([0, 1 << 4, 1 << 5]), st.sampled_from([0, 1 << 4, 1 << 6]), st.integers(0, 50))
train = st.lists(pulse, min_size=0, max_size=30)


def _edges(pulses: list[tuple[int, int, int]]) -> tuple[dict[int, tuple[int, int]], int]:
    """Time -> (on, off) of a train, and its end time."""
    t = 0
    out: dict[int, tuple[int, int]] = {}
    for on, off, d in pulses:
        a, b = out.get(t, (0, 0))
        out[t] = (a | on, b | off)
        t += d
    return out, t


@given(train, train)
def test_merge_keeps_every_switching_time_and_the_length(new, old) -> None:
    merged = merge_pulses(new, old)
    assert merged is not None
    got, end = _edges(merged)
    a, end_a = _edges(new)
    b, end_b = _edges(old)
    assert end == max(end_a, end_b)
    for t in set(a) | set(b):
        on = a.get(t, (0, 0))[0] | b.get(t, (0, 0))[0]
        off = a.get(t, (0, 0))[1] | b.get(t, (0, 0))[1]
        assert got.get(t, (0, 0)) == (on, off)


@settings(max_examples=300)
@given(st.binary(max_size=40))
def test_any_chain_bytes_parse_or_fail_with_a_pigpio_code(buf: bytes) -> None:
    store = WaveStore()
    for _ in range(3):
        store.add_generic([(1 << 4, 0, 3), (0, 1 << 4, 4)])
        store.create()
    try:
        items = parse_chain(buf, store)
    except ChainError as exc:
        assert exc.code in {
            p.PI_BAD_CHAIN_LOOP,
            p.PI_BAD_CHAIN_CMD,
            p.PI_CHAIN_NESTING,
            p.PI_CHAIN_COUNTER,
            p.PI_CHAIN_TOO_BIG,
            p.PI_BAD_WAVE_ID,
            p.PI_BAD_FOREVER,
        }
        return
    events = Program(items).events(0)
    times = [t for t, *_ in itertools.islice(events, 5000)]
    assert times == sorted(times)


@given(
    st.integers(1, 50),
    st.lists(
        st.tuples(
            st.integers(0, 2**40), st.sampled_from([1, -1]), st.sampled_from(OUTCOMES), st.integers(-(2**31), 2**31 - 1)
        ),
        max_size=120,
    ),
)
def test_pulse_log_keeps_the_newest_entries_in_order(capacity: int, entries) -> None:
    log = PulseLog(capacity, tick_offset_us=2**32 - 5)
    for entry in entries:
        log.append(*entry)
    kept = entries[-capacity:] if entries else []
    got = log.records()
    assert len(log) == len(kept) == len(got)
    assert [(r.emu_us, r.direction, r.outcome, r.position_steps) for r in got] == kept
    assert all(r.tick == (r.emu_us + 2**32 - 5) % 2**32 for r in got)
    assert log.records(3) == got[-3:]
