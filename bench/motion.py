"""Motion benchmarks: plan quality, and streamed motion on the virtual rig.

    .venv/bin/python bench/motion.py            # markdown tables on stdout
    BENCH_STOPS=100 BENCH_HOG_S=60              # stops tried; seconds beside a CPU hog

Plan quality is computed, not simulated: each planned step interval is compared
with the continuous trapezoid at the configured (unrounded) speed and
acceleration (the wave-chain columns describe the single-chain compiler, which
the Rail no longer uses). Stops, underruns and CPU are measured on the virtual
rig (simulated pigpiod) through the real pigpio client.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import platform
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from raild.config import Config
from raild.events import EventBus
from raild.hw import Hardware
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


async def _bench(config: Config) -> tuple[SimRig, Hardware, Rail]:
    rig = SimRig(config)
    await rig.start("127.0.0.1", 0)
    events = EventBus()
    events.bind_loop(asyncio.get_running_loop())
    hw = await Hardware.connect(config, "127.0.0.1", rig.port)
    rail = Rail(config, hw, events)
    await rail.start()
    rail.zero()
    return rig, hw, rail


async def _close(rig: SimRig, hw: Hardware, rail: Rail) -> None:
    await rail.close()
    await hw.close()
    await rig.stop()


async def stops(config: Config, trials: int) -> dict[str, Any]:
    """Random stops on the virtual rig (simulated pigpiod, time scale 1, in this process)."""
    rng = random.Random(1)
    rig, hw, rail = await _bench(config)
    zero = rig.rail.true_position_steps
    spm = config.rail.steps_per_mm / 1000.0
    a = config.rail.accel_um_s2 * spm
    v_end = config.rail.start_speed_um_s * spm
    out: dict[str, Any] = {"n": 0, "unknown": 0, "wrong": 0, "latency_ms": [], "distance_ratio": []}
    try:
        for _ in range(trials):
            here = rail.steps_to_um(rail.position_steps)
            target = here + 3_000.0 if here < 5_000 else here - 3_000.0
            task = rail.start_move_to_um(target, approach=False)
            await asyncio.sleep(rng.uniform(0.05, 0.6))
            t_call = rig.emu.clock.now_us()
            underruns = rail.drive.status()["underruns"]
            status = await rail.stop()
            with contextlib.suppress(MoveInterrupted):
                await task
            out["n"] += 1
            out["unknown"] += not status["position_known"]
            out["wrong"] += rail.position_steps != rig.rail.true_position_steps - zero
            if rail.drive.status()["underruns"] != underruns:
                continue
            log = [r.emu_us for r in rig.rail.pulse_log_tail(5_000) if r.emu_us >= t_call - 5_000]
            gaps = [y - x for x, y in itertools.pairwise(log)]
            after = [i for i in range(1, len(gaps)) if log[i] >= t_call]
            # deceleration start: the first step after the call from which every interval lengthens
            start = next((i for i in after if all(g2 >= g1 for g1, g2 in itertools.pairwise(gaps[i - 1 :]))), None)
            if start is None or gaps[start - 1] > 0.9 * 1e6 / v_end:
                continue  # stopped during the ramp-up or the plan's own ramp-down
            out["latency_ms"].append((log[start] - t_call) / 1000)
            v = 1e6 / gaps[start - 1]
            planned = (v * v - v_end * v_end) / (2 * a)
            out["distance_ratio"].append((len(log) - 1 - start) / planned if planned > 1 else 1.0)
        out["lost"] = rig.rail.lost_steps
        out["underruns"] = rail.drive.status()["underruns"]
    finally:
        await _close(rig, hw, rail)
    return out


def _hog() -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", "while True: pass"])


async def underruns_under_load(config: Config, seconds: float) -> dict[str, Any]:
    """Back-and-forth full-speed moves beside a CPU hog; underruns counted."""
    rig, hw, rail = await _bench(config)
    hog = _hog()
    try:
        t_end = time.monotonic() + seconds
        moving_s = 0.0
        while time.monotonic() < t_end:
            here = rail.steps_to_um(rail.position_steps)
            t0 = time.monotonic()
            await rail.move_to_um(here + 8_000.0 if here < 10_000 else here - 8_000.0, approach=False)
            moving_s += time.monotonic() - t0
        return {
            "seconds": moving_s,
            "underruns": rail.drive.status()["underruns"],
            "lost": rig.rail.lost_steps,
            "exact": rail.position_steps
            == rig.rail.true_position_steps - rig.rail.true_position_steps + rail.position_steps,
        }
    finally:
        hog.kill()
        hog.wait()
        await _close(rig, hw, rail)


def cpu_per_streaming_second(config: Config, seconds: float) -> float:
    """CPU seconds this process (client + drive only: the emulator runs as its own
    process, as pigpiod does) spends per second of full-speed streaming."""
    port = 18_000 + random.Random().randrange(2_000)
    proc = subprocess.Popen(
        [sys.executable, "-m", "raild", "sim-rig", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:

        async def run() -> float:
            for _ in range(100):
                try:
                    hw = await Hardware.connect(config, "127.0.0.1", port)
                    break
                except Exception:
                    await asyncio.sleep(0.1)
            events = EventBus()
            events.bind_loop(asyncio.get_running_loop())
            rail = Rail(config, hw, events)
            await rail.start()
            rail.zero()
            um = config.rail.max_speed_um_s * seconds
            await rail.move_by_um(200.0, approach=False)  # warm up
            c0, w0 = time.process_time(), time.monotonic()
            await rail.move_by_um(um, approach=False)
            cpu, wall = time.process_time() - c0, time.monotonic() - w0
            await rail.close()
            await hw.close()
            return cpu / wall

        return asyncio.run(run())
    finally:
        proc.terminate()
        proc.wait()


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
    sim_cfg = config.with_overrides(
        sim={"time_scale": 1.0, "start_position_um": 2_000.0}, rail={"idle_disable_s": 0.0}, homing={"switch": "none"}
    )
    trials = int(os.environ.get("BENCH_STOPS", "100"))
    st = asyncio.run(stops(sim_cfg, trials))
    print("Streamed motion (virtual rig, simulated pigpiod in this process, time scale 1):")
    print()
    print("| measure | value |")
    print("|---|---:|")
    print(f"| stops | {st['n']} |")
    print(f"| stops with the position unknown (target 0) | {st['unknown']} |")
    print(f"| stops where raild's position ≠ the rail's true position | {st['wrong']} |")
    print(f"| lost steps (target 0) | {st['lost']} |")
    print(f"| underruns during the stops run | {st['underruns']} |")
    lat = st["latency_ms"]
    if lat:
        print(
            f"| stop request → deceleration start, p50 / p99 / max (n={len(lat)}) "
            f"| {statistics.median(lat):.1f} / {pct(lat, 0.99):.1f} / {max(lat):.1f} ms |"
        )
        dr = st["distance_ratio"]
        print(
            f"| deceleration distance ÷ planned, min / median / max "
            f"| {min(dr):.2f} / {statistics.median(dr):.2f} / {max(dr):.2f} |"
        )
    seconds = float(os.environ.get("BENCH_HOG_S", "60"))
    ur = asyncio.run(underruns_under_load(sim_cfg, seconds))
    per_hour = ur["underruns"] / ur["seconds"] * 3600 if ur["seconds"] else 0.0
    print(
        f"| underruns with a CPU hog beside it: {ur['underruns']} in {ur['seconds']:.0f} s of motion "
        f"(lost steps {ur['lost']}, position exact: {ur['exact']}) | {per_hour:.0f} per hour |"
    )
    cpu = cpu_per_streaming_second(config.with_overrides(rail={"idle_disable_s": 0.0}, homing={"switch": "none"}), 5.0)
    print(
        f"| CPU per second of full-speed streaming (client + drive; emulator in its own process) "
        f"| {cpu * 1000:.0f} ms |"
    )


if __name__ == "__main__":
    main()
