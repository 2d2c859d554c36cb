"""Where a halted program stopped: the halt marker and its arithmetic. Pure.

pigpio cannot say how far a wave got when it was stopped, so raild halts with a
marker: a tiny wave (or the first wave of a stop program) sent in place of the
running one. pigpio replaces the running DMA at once; the marker first lets a
STEP pulse that was high finish its full width (so a cut pulse never leaves the
driver guessing), pulls STEP low, then toggles DIR. The DIR edge is reported
by pigpio's notifications with its tick, which dates the halt:

    halt_tick = dir_edge_tick - START_DELAY_US - marker_offset_us

The steps emitted are then those of the program at or before the halt. If a
STEP edge lies within `tolerance_us` of the halt the count is ambiguous and the
position is reported unknown rather than guessed.
"""

from __future__ import annotations

from dataclasses import dataclass

from raild.hw.pigpio_facts import HALF_WRAP, START_DELAY_US, ticks_diff
from raild.motion.program import Pulse, WaveProgram

DIR_HOLD_US = 2  # DIR stays put this long after STEP falls (drivers need ~200 ns)
HALT_TOLERANCE_US = 1  # a STEP edge this close to the halt makes the count ambiguous


def marker_pulses(step_gpio: int, dir_gpio: int, dir_level_now: bool, step_pulse_us: int) -> list[Pulse]:
    """The halt-marker prefix: finish a high STEP, pull it low, toggle DIR."""
    step, dirm = 1 << step_gpio, 1 << dir_gpio
    toggle = Pulse(0, dirm, 1) if dir_level_now else Pulse(dirm, 0, 1)
    return [Pulse(0, 0, step_pulse_us + 1), Pulse(0, step, DIR_HOLD_US), toggle]


def marker_offset_us(step_pulse_us: int) -> int:
    """µs from the marker's start to its DIR edge."""
    return step_pulse_us + 1 + DIR_HOLD_US


@dataclass(frozen=True)
class HaltResult:
    steps: int  # steps the program emitted (the lower count when ambiguous)
    exact: bool


def steps_before_halt(
    program: WaveProgram, start_tick: int, dir_edge_tick: int, step_pulse_us: int, tolerance_us: int = HALT_TOLERANCE_US
) -> HaltResult:
    """Steps of `program` (first pulse at `start_tick`) emitted before the halt dated by the marker."""
    halt_after_start = ticks_diff(dir_edge_tick, start_tick) - START_DELAY_US - marker_offset_us(step_pulse_us)
    if halt_after_start >= HALF_WRAP:  # the marker's edge came before the program started: nothing ran
        return HaltResult(0, True)
    lo = program.steps_at(halt_after_start - tolerance_us - 1)
    hi = program.steps_at(halt_after_start + tolerance_us)
    return HaltResult(lo, lo == hi)


def steps_in_window(program: WaveProgram, earliest_us: int, latest_us: int) -> HaltResult:
    """Steps emitted by a halt known only to lie in [earliest_us, latest_us] after the start."""
    lo = program.steps_at(earliest_us - 1)
    hi = program.steps_at(latest_us)
    return HaltResult(lo, lo == hi)
