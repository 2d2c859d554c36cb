"""Time estimates for a plan: moves from the motion profile, plus settle and camera time.

Move times come from the motion layer's pure profile planner (the very step times the
rail will emit); the runner later replaces the per-frame figure with what it measures.
"""

from __future__ import annotations

import functools

from raild.config import CameraConfig, Config
from raild.motion.profile import Kinematics, plan_profile
from raild.stacks.geometry import RailGeometry
from raild.stacks.plan import Plan

# A USB capture (release, exposure, the camera's confirmation) on a typical body; the
# real figure replaces it once the first frames of a stack have been measured.
USB_CAPTURE_OVERHEAD_MS = 700


def move_time_s(distance_um: float, geo: RailGeometry, speed_um_s: float | None = None) -> float:
    """Duration of the motion layer's own step profile for a move of `distance_um`."""
    steps = round(abs(distance_um) / geo.um_per_step)
    if steps == 0:
        return 0.0
    speed = min(speed_um_s or geo.max_speed_um_s, geo.max_speed_um_s)
    return (
        _profile_us(
            steps, speed / geo.um_per_step, geo.accel_um_s2 / geo.um_per_step, geo.start_speed_um_s / geo.um_per_step
        )
        / 1e6
    )


@functools.lru_cache(maxsize=256)
def _profile_us(steps: int, max_steps_s: float, accel_steps_s2: float, start_steps_s: float) -> int:
    # A stack repeats the same few distances; the profile of each is planned once.
    kin = Kinematics(
        max_speed_steps_s=max_steps_s,
        accel_steps_s2=accel_steps_s2,
        start_speed_steps_s=min(start_steps_s, max_steps_s),
    )
    return plan_profile(steps, kin).duration_us


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
    if times:  # the first position settles for `first_settle_ms` instead
        times[0] += (plan.first_settle - plan.settle_ms) / 1000.0
    return times


def stack_time_s(plan: Plan, geo: RailGeometry, capture_ms: float, from_um: float | None = None) -> float:
    """Whole stack: reach the start, every position, and the return when asked."""
    total = sum(position_times_s(plan, geo, capture_ms))
    if from_um is not None:
        total += approach_move_time_s(plan.positions_um[0] - from_um, geo)
    return total + return_time_s(plan, geo)


def return_time_s(plan: Plan, geo: RailGeometry) -> float:
    if not plan.return_to_start:
        return 0.0
    return approach_move_time_s(plan.positions_um[0] - plan.positions_um[-1], geo)
