"""Properties of the pure motion core: profiles and their pigpio wave programs."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from raild.motion.profile import Kinematics, Profile, ProfileError, plan_profile
from raild.motion.program import (
    PIGPIO,
    Loop,
    ProgramError,
    WaveProgram,
    compile_program,
    repeat,
    wave_cbs,
)

PULSE_US = 5


@st.composite
def kinematics(draw: st.DrawFn) -> Kinematics:
    v_max = draw(st.floats(200, 60_000))
    v_start = draw(st.floats(20, v_max * 0.9))
    # Ramps long enough to need compression are refused by design; keep them compilable.
    a_min = max(2_000.0, (v_max * v_max - v_start * v_start) / 2 / 1_700)
    accel = draw(st.floats(a_min, max(a_min * 4, 2_000_000)))
    return Kinematics(v_max, accel, v_start)


def _intervals(p: Profile) -> list[int]:
    return list(p.intervals())


def _program(p: Profile, direction: int = 1) -> WaveProgram:
    return compile_program(p, direction=direction, step_gpio=20, dir_gpio=21, step_pulse_us=PULSE_US, dir_setup_us=20)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(kin=kinematics(), steps=st.integers(1, 40_000))
def test_profile_is_exact_and_within_bounds(kin: Kinematics, steps: int) -> None:
    p = plan_profile(steps, kin, 2 * PULSE_US)
    iv = _intervals(p)
    assert len(iv) == steps == p.steps
    assert all(d >= 1 for d in iv)  # strictly increasing step times
    assert sum(iv) == p.duration_us
    for d in iv:  # never faster than max speed, one µs of rounding allowed
        assert 1e6 / (d + 1) <= kin.max_speed_steps_s
    for d0, d1 in itertools.pairwise(iv):
        dv = abs(1e6 / d1 - 1e6 / d0)
        dt = (d0 + d1) / 2e6
        slack = 1e6 / max(d0 - 1, 1) - 1e6 / d0 + 1e6 / max(d1 - 1, 1) - 1e6 / d1
        assert dv <= kin.accel_steps_s2 * dt + slack + 1e-9
    # first and last intervals are at or above the start speed's pace (no jump at rest)
    assert 1e6 / (iv[0] + 1) <= max(kin.start_speed_steps_s, 1e6 / iv[0])
    # planned time within 2 % of the ideal trapezoid (plus the µs rounding of a short move)
    assert p.duration_us <= 1.02 * p.ideal_duration_s * 1e6 + 1


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(kin=kinematics(), steps=st.integers(1, 400_000), direction=st.sampled_from([1, -1]))
def test_program_fits_pigpio_and_matches_schedule(kin: Kinematics, steps: int, direction: int) -> None:
    p = plan_profile(steps, kin, 2 * PULSE_US)
    prog = _program(p, direction)
    assert len(prog.waves) <= PIGPIO.wave_ids
    assert max(len(w) for w in prog.waves) <= PIGPIO.pulses_per_call <= PIGPIO.pulses_per_wave
    assert sum(wave_cbs(w) for w in prog.waves) <= PIGPIO.wave_cbs
    assert prog.chain_cbs <= PIGPIO.chain_cbs
    assert prog.loop_counters <= PIGPIO.loop_counters
    assert prog.nesting <= PIGPIO.nesting
    chain = prog.chain_bytes(list(range(len(prog.waves))))
    assert len(chain) < 65_536
    assert prog.chain_duration_us() == prog.duration_us == prog.lead_us + p.duration_us
    # expand the chain and compare the STEP edges with the schedule
    edges = _expand_step_edges(prog)
    assert len(edges) == steps
    assert edges[:50] == [prog.step_time_us(k) for k in range(min(50, steps))]
    assert edges[-1] == prog.step_time_us(steps - 1)
    assert prog.steps_at(prog.duration_us) == steps
    assert prog.steps_at(prog.lead_us - 1) == 0


def _expand_step_edges(prog: WaveProgram) -> list[int]:
    step_mask = 1 << 20
    edges: list[int] = []
    t = 0

    def play(items: tuple) -> None:
        nonlocal t
        for item in items:
            if isinstance(item, Loop):
                for _ in range(item.count):
                    play(item.body)
            else:
                for pulse in prog.waves[item]:
                    if pulse.on_mask & step_mask:
                        edges.append(t)
                    t += pulse.delay_us

    play(prog.chain)
    assert t == prog.duration_us
    return edges


def test_full_travel_and_single_step_compile_with_defaults() -> None:
    kin = Kinematics(3000 * 3.2, 20_000 * 3.2, 100 * 3.2)
    full = _program(plan_profile(320_000, kin, 10))
    assert full.steps == 320_000 and full.chain_cbs < 20
    one = _program(plan_profile(1, kin, 10))
    assert one.steps == 1 and len(one.waves) == 1


def test_dir_is_set_with_its_setup_time_before_the_first_step() -> None:
    kin = Kinematics(9600, 64_000, 320)
    for direction, dir_level in ((1, True), (-1, False)):
        prog = _program(plan_profile(10, kin, 10), direction)
        lead = prog.waves[0][0]
        assert bool(lead.on_mask & (1 << 21)) == dir_level
        assert bool(lead.off_mask & (1 << 21)) != dir_level
        assert lead.off_mask & (1 << 20)  # STEP low before its first rising edge
        assert lead.delay_us == 20 and prog.step_time_us(0) == 20


def test_steps_at_agrees_with_expanded_edges() -> None:
    kin = Kinematics(9600, 64_000, 320)
    prog = _program(plan_profile(3_000, kin, 10))
    edges = _expand_step_edges(prog)
    for t in range(0, prog.duration_us + 3, 37):
        assert prog.steps_at(t) == sum(1 for e in edges if e <= t)


def test_too_fast_for_the_pulse_width_is_refused() -> None:
    with pytest.raises(ProfileError, match="µs per step"):
        plan_profile(100, Kinematics(200_000, 1e6, 1000), 10)


def test_uncompressible_ramp_is_refused_not_truncated() -> None:
    # a very slow acceleration makes a ramp longer than pigpio's wave memory
    p = plan_profile(300_000, Kinematics(60_000, 3_000, 100), 10)
    with pytest.raises(ProgramError, match="does not fit pigpio"):
        _program(p)


def test_repeat_nests_past_the_loop_limit() -> None:
    items = repeat((7,), 200_000)
    prog_like = Loop(items, 1)

    def count(it: tuple) -> int:
        return sum(i.count * count(i.body) if isinstance(i, Loop) else 1 for i in it)

    assert count(prog_like.body) == 200_000
    assert all(i.count <= 65_535 for i in items if isinstance(i, Loop))
