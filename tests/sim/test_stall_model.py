"""The stall model as a property: plans within the motor's limits never lose a step,
plans well beyond them always do. Driven through the emulator core (no sockets)."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from raild.config import Config
from raild.sim.core import Emulator
from raild.sim.timeline import Program, WaveItem

CFG = Config()
STEP, DIR, EN = CFG.pins.step, CFG.pins.dir, CFG.pins.enable
UM = CFG.rail.um_per_step
MOTOR_V, MOTOR_A = CFG.sim.motor_max_speed_um_s, CFG.sim.motor_max_accel_um_s2


def _profile(steps: int, v0: float, vmax: float, accel: float) -> list[int]:
    out = []
    for i in range(steps):
        s_um = min(i, steps - 1 - i) * UM
        v = min(vmax, math.sqrt(v0 * v0 + 2 * accel * s_um))
        out.append(max(4, round(UM / v * 1e6)))
    return out


def _play(intervals_us: list[int]) -> Emulator:
    emu = Emulator(CFG)
    for g in (STEP, DIR, EN):
        emu.gpio.set_mode(g, 1, 0)
    emu.gpio.write(EN, 0, 0)
    emu.gpio.write(DIR, 1, 0)
    pulses = [(0, 0, 50)]
    for dt in intervals_us:
        pulses += [(1 << STEP, 0, 3), (0, 1 << STEP, dt - 3)]
    emu.engine.start(Program([WaveItem(0, pulses)]), 1000)
    emu.advance(10**12)
    return emu


@settings(max_examples=25, deadline=None)
@given(
    steps=st.integers(10, 4000),
    v0=st.floats(20.0, 300.0),
    vmax=st.floats(300.0, 0.9 * MOTOR_V),
    accel=st.floats(1_000.0, 0.9 * MOTOR_A),
)
def test_plans_within_the_motor_limits_keep_every_step(steps: int, v0: float, vmax: float, accel: float) -> None:
    emu = _play(_profile(steps, v0, vmax, accel))
    assert emu.rail.lost_by_reason == {"disabled": 0, "stall": 0, "hard_stop": 0, "short_pulse": 0}
    assert emu.rail._carriage - round(50_000 / UM) == steps


@settings(max_examples=25, deadline=None)
@given(
    v0=st.floats(20.0, 300.0),
    accel_factor=st.floats(3.0, 50.0),
)
def test_plans_well_beyond_the_acceleration_limit_lose_steps(v0: float, accel_factor: float) -> None:
    # Accelerate to 6000 µm/s (within the speed limit) far too hard.
    steps = 3000
    emu = _play(_profile(steps, v0, 6000.0, accel_factor * MOTOR_A))
    assert emu.rail.lost_by_reason["stall"] > 0


@settings(max_examples=15, deadline=None)
@given(speed=st.floats(1.05 * MOTOR_V, 5 * MOTOR_V))
def test_speeds_beyond_the_motor_lose_steps_even_with_a_gentle_ramp(speed: float) -> None:
    emu = _play(_profile(8000, 100.0, speed, 0.5 * MOTOR_A))
    assert emu.rail.lost_by_reason["stall"] > 0
