"""Streamed motion, pure: cutting a move into padded-wave segments, deceleration ramps,
and the timeline that turns a halt time into an exact step count."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from raild.drives.pigpio.segments import (
    MAX_SEGMENT_STEPS,
    PAD_PERCENT,
    SEGMENT_US,
    Segment,
    Timeline,
    cut,
    decel_intervals,
    pulses,
)
from raild.motion.profile import Kinematics, plan_profile
from raild.sim import protocol as p


def _wave_cbs(train: list) -> tuple[int, int]:
    cbs, bools = 1, 0
    for on, off, d in train:
        bools += (1 if on else 0) + (1 if off else 0)
        cbs += (1 if (on or off) else 0) + (1 if d else 0)
    return cbs, bools


@settings(max_examples=30, deadline=None)
@given(
    accel=st.floats(1_000.0, 500_000.0),
    speed=st.floats(300.0, 30_000.0),
    steps=st.sampled_from([1, 37, 5_000, 320_000]),
)
def test_any_acceleration_streams_at_full_speed_in_segments_that_fit_a_padded_wave(
    accel: float, speed: float, steps: int
) -> None:
    spm = 3.2
    kin = Kinematics(speed * spm, accel * spm, min(100.0, speed / 2) * spm)
    profile = plan_profile(steps, kin, 10)
    stream = profile.intervals()
    got: list[int] = []
    first = True
    pad_cbs = (p.NUM_WAVE_CBS - p.WAVE_FIRST_CB) * PAD_PERCENT // 100
    pad_bools = (p.NUM_WAVE_OOL - p.WAVE_FIRST_OOL) * PAD_PERCENT // 100
    while chunk := cut(stream):
        seg = Segment(tuple(chunk), 20 if first else 0)
        first = False
        assert len(chunk) <= MAX_SEGMENT_STEPS
        assert sum(chunk) - chunk[-1] < SEGMENT_US  # ends at the first interval past the segment time
        cbs, bools = _wave_cbs(pulses(seg, 20, 21, True, 5))
        assert cbs <= pad_cbs and bools <= pad_bools
        got += chunk
    assert got == list(profile.intervals())  # nothing lost or added at the cuts
    # no lowered cruise: the ramps are streamed, not stored
    ideal = plan_profile(steps, kin, 10)
    assert profile.peak_speed_steps_s == ideal.peak_speed_steps_s


@settings(max_examples=50, deadline=None)
@given(interval=st.integers(20, 5_000), accel=st.floats(10_000.0, 2_000_000.0))
def test_deceleration_ramp_lengthens_to_the_start_speed_within_the_acceleration(interval: int, accel: float) -> None:
    end_speed = 320.0
    ramp = decel_intervals(interval, end_speed, accel)
    if 1e6 / interval <= end_speed:
        assert ramp == []
        return
    assert ramp[0] >= interval
    assert all(b >= a for a, b in itertools.pairwise(ramp))  # intervals only lengthen
    assert ramp[-1] >= round(1e6 / end_speed) - 1
    speeds = [1e6 / interval] + [1e6 / d for d in ramp]
    for (v0, v1), d in zip(itertools.pairwise(speeds), ramp, strict=True):
        assert v0 - v1 <= accel * d / 1e6 * 1.05 + 1e6 / (d - 1) - 1e6 / d + 1  # within the acceleration


def test_timeline_counts_steps_exactly_and_flags_an_edge_at_the_halt() -> None:
    tl = Timeline()
    tl.add(Segment((100, 100, 100), lead_us=20))  # steps rise at 20, 120, 220; ends at 320
    tl.add(Segment((50, 50)))  # steps at 320, 370; ends at 420
    assert tl.sent_steps == 5 and tl.sent_us == 420
    assert tl.steps_at(19) == 0
    assert tl.steps_at(20) == 1
    assert tl.steps_at(319) == 3
    assert tl.steps_at(320) == 4
    assert tl.steps_at(1_000) == 5
    assert tl.steps_around(200, 1) == (2, True)
    assert tl.steps_around(120, 1) == (1, False)  # an edge right at the halt: ambiguous, said so
