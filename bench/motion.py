"""Motion benchmarks: plan quality, compile cost, pigpio resources, halt latency.

    .venv/bin/python bench/motion.py            # markdown tables on stdout

Plan quality is computed, not simulated: each planned step interval is compared
with the continuous trapezoid at the configured (unrounded) speed and
acceleration. The halt latencies are measured on the virtual rig (simulated
pigpiod, time scale 1) through the real pigpio client.
"""

from __future__ import annotations

import asyncio
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from raild.config import Config
from raild.events import EventBus
from raild.hw import Hardware
from raild.hw.pigpio_facts import ticks_diff
from raild.motion.errors import MoveInterrupted
from raild.motion.profile import Kinematics, _phases, plan_profile
from raild.motion.program import compile_program
from raild.motion.rail import Rail
from raild.sim.rig import SimRig


def plan_rows(config: Config) -> list[str]:
    rc = config.rail
    title = (
        f"{rc.steps_per_mm:,.0f} microsteps/mm, {rc.max_speed_um_s:g} µm/s, {rc.accel_um_s2:g} µm/s², "
        f"start {rc.start_speed_um_s:g} µm/s, pulse {rc.step_pulse_us} µs"
    )
    spm = rc.steps_per_mm / 1000.0
    kin = Kinematics(rc.max_speed_um_s * spm, rc.accel_um_s2 * spm, rc.start_speed_um_s * spm)
    rows = [
        f"**{title}**",
        "",
        "| steps | planned ms | ideal ms | planned ÷ ideal | worst interval deviation µs "
        "| compile ms | waves | wave CBs | chain CBs | loop counters |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for steps in (1, 10, 100, 1_000, 10_000, 100_000, 320_000):
        t0 = time.perf_counter()
        profile = plan_profile(steps, kin, 2 * rc.step_pulse_us)
        program = compile_program(
            profile,
            direction=1,
            step_gpio=config.pins.step,
            dir_gpio=config.pins.dir,
            step_pulse_us=rc.step_pulse_us,
            dir_setup_us=rc.dir_setup_us,
        )
        compile_ms = (time.perf_counter() - t0) * 1000
        ideal = _phases(steps, kin, kin.max_speed_steps_s)
        worst, t_planned = 0.0, 0
        for k, d in enumerate(profile.intervals()):
            ideal_d = (ideal.time_at(k + 1) - ideal.time_at(k)) * 1e6
            worst = max(worst, abs(d - ideal_d))
            t_planned += d
        rows.append(
            f"| {steps:,} | {profile.duration_us / 1000:.3f} | {ideal.total * 1000:.3f} "
            f"| {profile.duration_us / (ideal.total * 1e6):.5f} | {worst:.2f} | {compile_ms:.1f} "
            f"| {len(program.waves)} | {program.wave_cbs:,} | {program.chain_cbs} | {program.loop_counters} |"
        )
    return rows


async def halt_latencies(config: Config, trials: int) -> tuple[list[float], list[float]]:
    """(limit switch → halt, stop() call → halt) in ms of pigpio clock, on the virtual rig."""
    rig = SimRig(config)
    await rig.start("127.0.0.1", 0)
    events = EventBus()
    events.bind_loop(asyncio.get_running_loop())
    hw = await Hardware.connect(config, "127.0.0.1", rig.port)
    rail = Rail(config, hw, events)
    await rail.start()
    limit_ms: list[float] = []
    stop_ms: list[float] = []
    halts: list[tuple[int, int | None]] = []
    original = rail.stepper._resolve_halt

    async def spy(run, start):  # type: ignore[no-untyped-def]
        result = await original(run, start)
        edge = rail.stepper._dir_edges[-1][0] if rail.stepper._dir_edges else None
        halts.append((edge, run.trip_tick))
        return result

    rail.stepper._resolve_halt = spy  # type: ignore[method-assign]
    try:
        await rail.home()
        for _ in range(trials):
            # limit: pretend the carriage is 300 µm higher than it is, and move down past the switch
            await rail.reset()
            await rail.home()
            await rail.move_to_um(400.0)
            rail.position_steps += rail.um_to_steps(300.0)
            halts.clear()
            try:
                await rail.move_to_um(150.0, speed_um_s=2_000.0, approach=False)
            except MoveInterrupted:
                pass
            edge, trip = halts[-1] if halts else (None, None)
            if edge is not None and trip is not None:
                limit_ms.append((ticks_diff(edge, trip) - 20 - (rail.rc.step_pulse_us + 3)) / 1000)
        await rail.reset()
        await rail.home()
        for _ in range(trials):
            if not rail.homed:  # a halt too close to a step edge to date leaves the position unknown
                await rail.home()
            task = rail.start_move_to_um(3_000.0 if rail.position_steps < 4_000 else 1_000.0)
            await asyncio.sleep(0.15)
            t_call = await hw.tick()
            halts.clear()
            await rail.stop()
            try:
                await task
            except MoveInterrupted:
                pass
            edge = halts[-1][0] if halts else None
            if edge is not None:
                stop_ms.append((ticks_diff(edge, t_call) - 20 - (rail.rc.step_pulse_us + 3)) / 1000)
    finally:
        await rail.close()
        await hw.close()
        await rig.stop()
    return limit_ms, stop_ms


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    config = Config()
    print(
        f"Machine: {platform.machine()} {platform.processor() or ''}, Python {platform.python_version()}, "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
    )
    print()
    print("\n".join(plan_rows(config)))
    print()
    awkward = config.with_overrides(
        rail={"microsteps": 32, "max_speed_um_s": 2_777.0, "accel_um_s2": 15_000.0, "start_speed_um_s": 130.0}
    )
    print("\n".join(plan_rows(awkward)))
    print()
    sim_cfg = config.with_overrides(sim={"time_scale": 1.0, "start_position_um": 2_000.0}, rail={"idle_disable_s": 0.0})
    limit_ms, stop_ms = asyncio.run(halt_latencies(sim_cfg, 15))
    print("| halt latency (virtual rig, simulated pigpiod, time scale 1) | n | p50 ms | p99 ms | max ms |")
    print("|---|---:|---:|---:|---:|")
    for name, values in (("limit switch edge → wave halted", limit_ms), ("stop() call → wave halted", stop_ms)):
        if values:
            print(
                f"| {name} | {len(values)} | {statistics.median(values):.2f} | {pct(values, 0.99):.2f} "
                f"| {max(values):.2f} |"
            )
        else:
            print(f"| {name} | 0 | – | – | – |")


if __name__ == "__main__":
    main()
