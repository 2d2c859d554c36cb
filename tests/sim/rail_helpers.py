"""Building step trains for the virtual rail through the real pigpio client."""

from __future__ import annotations

import math
import time

import pigpio

from raild.config import Config
from tests.sim.conftest import wait_idle

CFG = Config()
STEP, DIR, EN = CFG.pins.step, CFG.pins.dir, CFG.pins.enable
LIMIT_MIN, LIMIT_MAX = CFG.pins.limit_min, CFG.pins.limit_max
UM_PER_STEP = CFG.rail.um_per_step  # 0.3125


def prepare(pi: pigpio.pi, enabled: bool = True) -> None:
    for g in (STEP, DIR, EN):
        pi.set_mode(g, pigpio.OUTPUT)
    pi.write(STEP, 0)
    pi.write(EN, 0 if enabled else 1)  # the default driver enables on a low EN
    for g in (LIMIT_MIN, LIMIT_MAX):
        pi.set_mode(g, pigpio.INPUT)
        pi.set_pull_up_down(g, pigpio.PUD_UP)
    pi.wave_clear()


def intervals_at(speed_um_s: float, steps: int) -> list[int]:
    return [max(2, round(UM_PER_STEP / speed_um_s * 1e6))] * steps


def trapezoid(steps: int, v0: float, vmax: float, accel: float) -> list[int]:
    """Whole-µs step intervals of a symmetric trapezoid (what a planner would send)."""
    out = []
    for i in range(steps):
        s_um = min(i, steps - 1 - i) * UM_PER_STEP
        v = min(vmax, math.sqrt(v0 * v0 + 2 * accel * s_um))
        out.append(max(2, round(UM_PER_STEP / v * 1e6)))
    return out


def run_steps(
    pi: pigpio.pi, intervals_us: list[int], direction: int, high_us: int = 5, dir_setup_us: int = 20, wait: bool = True
) -> None:
    """DIR, a setup delay, then one STEP pulse per interval; played as a chain of waves."""
    pi.wave_clear()
    wids = []
    lead = [pigpio.pulse(1 << DIR, 0, dir_setup_us) if direction > 0 else pigpio.pulse(0, 1 << DIR, dir_setup_us)]
    for start in range(0, len(intervals_us), 2000):
        pulses = list(lead) if start == 0 else []
        for dt in intervals_us[start : start + 2000]:
            pulses += [pigpio.pulse(1 << STEP, 0, high_us), pigpio.pulse(0, 1 << STEP, max(1, dt - high_us))]
        pi.wave_add_new()
        pi.wave_add_generic(pulses)
        wids.append(pi.wave_create())
    pi.wave_chain(wids)
    if wait:
        wait_idle(pi, 30.0)
        time.sleep(0.002)
