"""Planned moves on the wire: every STEP pulse counted, each interval against the plan.

On the Pi, wire STEP to a free input and name it in RAILD_HW_FEEDBACK_PIN; pigpio's
callbacks then time each rising edge (to its sample rate, 5 µs by default). Start
with the carriage mid-travel: the moves are short and alternate in direction. In
the emulator the STEP pin's own edges are reported and the virtual carriage must
have moved by exactly the step count.
"""

from __future__ import annotations

import itertools
import math
import threading
import time
from collections.abc import Iterator

import pigpio
import pytest

from hw_tests.conftest import report
from hw_tests.rig import FEEDBACK_ENV, Target
from raild.hw import waves as loader
from raild.motion.halt import marker_pulses
from raild.motion.profile import Kinematics, Profile, plan_profile
from raild.motion.program import WaveProgram, compile_program

# (microsteps, direction): one step, a few, all ramp, and a move with a long cruise.
MOVES = [(1, 1), (2, -1), (37, 1), (600, -1), (6000, 1), (6000, -1)]
_ERRORS_US: list[int] = []


def _kinematics(target: Target) -> Kinematics:
    rail = target.config.rail
    per_um = rail.steps_per_mm / 1000.0
    return Kinematics(rail.max_speed_um_s * per_um, rail.accel_um_s2 * per_um, rail.start_speed_um_s * per_um)


def _program(target: Target, steps: int, direction: int) -> tuple[Profile, WaveProgram]:
    rail, pins = target.config.rail, target.config.pins
    profile = plan_profile(steps, _kinematics(target), min_interval_us=2 * rail.step_pulse_us)
    program = compile_program(
        profile,
        direction=direction,
        step_gpio=pins.step,
        dir_gpio=pins.dir,
        step_pulse_us=rail.step_pulse_us,
        dir_setup_us=rail.dir_setup_us,
    )
    return profile, program


def _percentile(values: list[int], q: float) -> int:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)]


@pytest.fixture(scope="module", autouse=True)
def _summary(target: Target) -> Iterator[None]:
    yield
    if _ERRORS_US:
        kind = "SIMULATED" if target.simulated else "measured"
        report(
            f"{kind} STEP interval error vs plan, all moves: worst {max(_ERRORS_US)} us, "
            f"p99 {_percentile(_ERRORS_US, 0.99)} us over {len(_ERRORS_US)} intervals"
        )


@pytest.fixture
def feedback(target: Target, pi: pigpio.pi) -> int:
    pin = target.feedback_pin()
    if pin is None:
        pytest.skip(
            f"STEP (GPIO {target.config.pins.step}) is not wired back to an input: wire it "
            f"to a free GPIO and set {FEEDBACK_ENV} to that pin"
        )
    pins = target.config.pins
    if pin != pins.step:
        pi.set_mode(pin, pigpio.INPUT)
        pi.set_pull_up_down(pin, pigpio.PUD_DOWN)
    pi.set_mode(pins.step, pigpio.OUTPUT)
    pi.set_mode(pins.dir, pigpio.OUTPUT)
    pi.write(pins.step, 0)
    if pins.enable:
        pi.set_mode(pins.enable, pigpio.OUTPUT)
        pi.write(pins.enable, 0 if pins.enable_active_low else 1)
    return pin


def _run_move(pi: pigpio.pi, target: Target, program: WaveProgram, feedback_pin: int) -> list[int]:
    pins = target.config.pins
    ticks: list[int] = []
    arrived = threading.Event()

    def on_edge(gpio: int, level: int, tick: int) -> None:
        ticks.append(tick)
        if len(ticks) >= program.steps:
            arrived.set()

    callback = pi.callback(feedback_pin, pigpio.RISING_EDGE, on_edge)
    try:
        dir_level = bool(pi.read(pins.dir))
        loaded = loader.load(
            pi, program, marker_pulses(pins.step, pins.dir, dir_level, target.config.rail.step_pulse_us), clear=True
        )
        pi.wave_chain(loaded.chain)
        deadline = time.monotonic() + program.duration_us / 1e6 + 10
        while pi.wave_tx_busy() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert not pi.wave_tx_busy(), "the wave did not finish in its planned time + 10 s"
        # Notifications trail the wave a little; a surplus edge would show up here too.
        arrived.wait(2.0)
        time.sleep(0.1)
    finally:
        callback.cancel()
    return ticks


@pytest.mark.parametrize(("steps", "direction"), MOVES)
def test_planned_move_pulses_are_exact(
    target: Target, pi: pigpio.pi, feedback: int, steps: int, direction: int
) -> None:
    profile, program = _program(target, steps, direction)
    before = target.inspector.ask("position")["true_position_steps"] if target.inspector else None
    ticks = _run_move(pi, target, program, feedback)

    assert len(ticks) == steps, f"planned {steps} STEP pulses, counted {len(ticks)}"
    dir_high = bool(pi.read(target.config.pins.dir))
    assert dir_high == program.dir_high, "DIR does not match the move's direction"

    planned = list(profile.intervals())[:-1]  # the last interval is the tail after the last step
    measured = [(later - earlier) % 2**32 for earlier, later in itertools.pairwise(ticks)]
    errors = [abs(m - p) for m, p in zip(measured, planned, strict=True)]
    _ERRORS_US.extend(errors)
    if target.simulated:
        # The emulator runs waves on an exact µs clock: any difference is the
        # program's, not the clock's. On a Pi the error is measured, not asserted.
        assert max(errors, default=0) == 0, "the wave program does not follow the plan"
    if errors:
        report(
            f"{'SIMULATED ' if target.simulated else ''}move {direction * steps:+d} steps: "
            f"interval error worst {max(errors)} us, p99 {_percentile(errors, 0.99)} us "
            f"over {len(errors)} intervals"
        )

    if target.inspector is not None:
        after = target.inspector.ask("position")["true_position_steps"]
        assert after - before == direction * steps, "the virtual carriage did not move as planned"
        assert target.inspector.ask("lost_steps")["lost_steps"] == 0
