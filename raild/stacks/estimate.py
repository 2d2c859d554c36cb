"""Time estimates for a plan: moves from the motion profile, plus settle and camera time.

The move time is the ideal trapezoid (start speed → max speed at constant acceleration,
cruise, symmetric ramp down), the same shape the motion layer plans; the runner later
replaces the per-position figure with what it measures.
"""

from __future__ import annotations

import math

from raild.config import CameraConfig, Config
from raild.stacks.geometry import RailGeometry
from raild.stacks.plan import Plan

# A USB capture (release, exposure, the camera's confirmation) on a typical body; the
# real figure replaces it once the first frames of a stack have been measured.
USB_CAPTURE_OVERHEAD_MS = 700


def move_time_s(distance_um: float, geo: RailGeometry, speed_um_s: float | None = None) -> float:
    """Ideal trapezoid (or triangle, for short moves) time to travel `distance_um`."""
    d = abs(distance_um)
    if d == 0:
        return 0.0
    v_max = min(speed_um_s or geo.max_speed_um_s, geo.max_speed_um_s)
    v0 = min(geo.start_speed_um_s, v_max)
    a = geo.accel_um_s2
    ramp_um = (v_max * v_max - v0 * v0) / (2 * a)
    if 2 * ramp_um <= d:
        return 2 * (v_max - v0) / a + (d - 2 * ramp_um) / v_max
    v_peak = math.sqrt(v0 * v0 + a * d)
    return 2 * (v_peak - v0) / a


def approach_move_time_s(delta_um: float, geo: RailGeometry) -> float:
    """A move that ends approaching from the backlash side: one leg, or overshoot and back."""
    if delta_um == 0:
        return 0.0
    if geo.backlash_um == 0 or (delta_um > 0) == (geo.approach_sign > 0):
        return move_time_s(delta_um, geo)
    return move_time_s(abs(delta_um) + geo.backlash_um, geo) + move_time_s(geo.backlash_um, geo)


def capture_time_ms(config: Config) -> float:
    """Shutter to confirmation for one shot with the configured camera backend."""
    cam: CameraConfig = config.camera
    if cam.backend == "sim":
        return float(config.sim.capture_latency_ms)
    wired = cam.backend == "gpio" or cam.trigger == "wire"
    if wired:
        return float(cam.focus_ms + cam.shutter_pulse_ms + cam.exposure_ms)
    return float(cam.exposure_ms + USB_CAPTURE_OVERHEAD_MS)


def shots_time_s(plan: Plan, capture_ms: float) -> float:
    """Settle, then every shot at one position with the interval between shots."""
    shots = plan.shots_per_position
    return (plan.settle_ms + shots * capture_ms + (shots - 1) * plan.shot_interval_ms) / 1000.0


def position_times_s(plan: Plan, geo: RailGeometry, capture_ms: float) -> list[float]:
    """Planned time spent on each position, including the move to it from the one before."""
    times = []
    for i, um in enumerate(plan.positions_um):
        move = approach_move_time_s(um - plan.positions_um[i - 1], geo) if i else 0.0
        times.append(move + shots_time_s(plan, capture_ms))
    return times


def stack_time_s(
    plan: Plan, geo: RailGeometry, capture_ms: float, from_um: float | None = None
) -> float:
    """Whole stack: reach the start, every position, and the return when asked."""
    total = sum(position_times_s(plan, geo, capture_ms))
    if from_um is not None:
        total += approach_move_time_s(plan.positions_um[0] - from_um, geo)
    return total + return_time_s(plan, geo)


def return_time_s(plan: Plan, geo: RailGeometry) -> float:
    if not plan.return_to_start:
        return 0.0
    return approach_move_time_s(plan.positions_um[0] - plan.positions_um[-1], geo)
