"""grbl drive benchmarks against the grbl emulator (simulated; bounded, stops by itself).

    .venv/bin/python bench/grbl.py [--stops 30] [--rates 20,50] [--frames 40] [--no-daemon]

Default rail (3200 steps/mm, 3000 µm/s, 20 000 µm/s²), emulator at time scale 1.
In-process part (emulator thread + GrblDrive over socket:// on loopback):

- poll lag: while cruising, at random instants, how far the drive's position
  (from the last `?` report) trails the emulator's true step count: µm, and ms at
  cruise speed; at each status rate in --rates;
- stop → hold: `request_stop()` → the emulator's feed hold starting (its `!`
  handler, timed on the same host clock), over --stops stops at random phases of
  6 mm moves; after each, raild's position is checked against the emulator's step
  count and the virtual rail's true position (a mismatch aborts the benchmark);
  also the whole stop (request → result, with the settle move) and its extra steps.

Daemon part (as a user runs it): `raild serve` pointed at `raild sim-rig` (pigpio)
or `raild sim-grbl` (grbl) in their own processes, simulated camera; over the
REST API: homing, a --frames stack (total, per frame, grbl ÷ pigpio), a 15 mm move;
the daemon's CPU time ÷ wall time over each (the emulators' CPU is not counted).

All figures are for simulated boards on this machine, not a real grbl board or a Pi;
a real board adds USB latency (about 1-2 ms per transfer) to each figure.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import random
import statistics
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from e2e_procs import (  # noqa: E402
    SimGrbl,
    SimRig,
    cpu_seconds,
    home,
    remove_tempdirs,
    serve,
    tempdir,
    wait,
)

from raild.config import Config  # noqa: E402
from raild.drives.grbl.drive import GrblDrive  # noqa: E402
from raild.sim.grbl.sim import GrblSim  # noqa: E402

SIM = {"time_scale": 1.0, "start_position_um": 3000.0}


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def summary(values: list[float], unit: str, digits: int = 1) -> str:
    f = f"{{:.{digits}f}}"
    return (
        f"p50 {f.format(statistics.median(values))} / p99 {f.format(pct(values, 0.99))} / "
        f"max {f.format(max(values))} {unit} (n={len(values)})"
    )


# ----- in process: lag and stops -----
async def _started(rate_hz: float) -> tuple[GrblSim, GrblDrive, Config]:
    config = Config().with_overrides(sim=SIM, grbl={"status_hz": rate_hz})
    sim = GrblSim(config)
    await sim.start()
    drive = GrblDrive(config, sim.url)
    await drive.start()
    res = await drive.home()
    assert res.exact, res
    return sim, drive, config


def _true_steps(sim: GrblSim) -> int:
    return int(sim.machine_status()["mpos_steps"])  # the emulator's step count, grbl's machine frame


async def poll_lag(rate_hz: float, seconds: float) -> dict[str, Any]:
    sim, drive, config = await _started(rate_hz)
    try:
        spm = drive.spm
        cruise = config.rail.max_speed_um_s / 1000 * spm
        lag_steps: list[float] = []
        rng = random.Random(1)
        for d in (1, -1):
            distance = round(seconds / 2 * cruise)
            task = asyncio.create_task(drive.move(d * distance, cruise, 0.0, 0.0, lambda s: None))
            while not task.done():
                await asyncio.sleep(rng.uniform(0.003, 0.012))
                ms = sim.machine_status()
                if abs(ms["speed_steps_s"] - cruise) > 1 or drive.position_steps is None:
                    continue  # accelerating or decelerating: only cruise counts
                lag_steps.append(d * (ms["mpos_steps"] - drive.position_steps))
            res = await task
            assert res.exact and res.reason is None, res
        return {
            "rate_hz": rate_hz,
            "lag_um": [s / spm * 1000 for s in lag_steps],
            "lag_ms": [s / cruise * 1000 for s in lag_steps],
            "cruise_um_s": config.rail.max_speed_um_s,
        }
    finally:
        await drive.close()
        await sim.stop()


async def short_moves(rate_hz: float, n: int, step_um: float = 100.0) -> dict[str, Any]:
    """Stack-sized moves: drive.move() call → result, against the planned trapezoid."""
    sim, drive, config = await _started(rate_hz)
    try:
        spm = drive.spm
        cruise = config.rail.max_speed_um_s / 1000 * spm
        accel = config.rail.accel_um_s2 / 1000 * spm
        steps = round(step_um / 1000 * spm)
        ramp = cruise * cruise / accel  # steps to reach cruise and stop again
        planned_s = 2 * (steps / accel) ** 0.5 if steps < ramp else steps / cruise + cruise / accel
        took = []
        for _ in range(n):
            t0 = time.perf_counter()
            res = await drive.move(steps, cruise, 0.0, 0.0, lambda s: None)
            took.append((time.perf_counter() - t0) * 1000)
            assert res.exact and res.reason is None, res
        return {"rate_hz": rate_hz, "planned_ms": planned_s * 1000, "took_ms": took, "step_um": step_um}
    finally:
        await drive.close()
        await sim.stop()


@contextmanager
def hold_watch(sim: GrblSim) -> Iterator[tuple[list[tuple[float, str, int, float]], list[int]]]:
    """(host perf_counter, state, step count, speed in steps/s) each time the emulator's `!`
    handler runs, and the emulator's step count at each soft reset (where a held carriage rests)."""
    holds: list[tuple[float, str, int, float]] = []
    resets: list[int] = []
    machine = sim.machine
    feed_hold, reset = machine._feed_hold, machine._reset

    def watched_hold(now_us: float) -> None:
        holds.append((time.perf_counter(), machine.state, machine.stepper.position, machine.stepper.speed(now_us)))
        feed_hold(now_us)

    def watched_reset(now_us: float) -> None:
        resets.append(machine.stepper.position)
        reset(now_us)

    machine._feed_hold = watched_hold  # type: ignore[method-assign]
    machine._reset = watched_reset  # type: ignore[method-assign]
    try:
        yield holds, resets
    finally:
        machine._feed_hold, machine._reset = feed_hold, reset  # type: ignore[method-assign]


async def stops(n: int, rate_hz: float) -> dict[str, Any]:
    sim, drive, config = await _started(rate_hz)
    spm = drive.spm
    cruise = config.rail.max_speed_um_s / 1000 * spm
    distance = round(6 * spm)
    duration_s = distance / cruise + cruise / (config.rail.accel_um_s2 / 1000 * spm)
    rng = random.Random(15)
    to_hold, whole, extra, before_stop = [], [], [], 0
    settle_steps: list[int] = []
    decel: list[float] = []
    accel = config.rail.accel_um_s2 / 1000 * spm
    offset = sim.rail.true_position_steps - (drive.position_steps or 0)
    try:
        with hold_watch(sim) as (holds, resets):
            mid = -round(config.rail.travel_mm / 2 * spm)  # grbl's machine frame: -travel..0
            while len(to_hold) < n:
                d = 1 if (drive.position_steps or 0) < mid else -1
                task = asyncio.create_task(drive.move(d * distance, cruise, 0.0, 0.0, lambda s: None))
                await asyncio.sleep(rng.uniform(0.05, duration_s * 0.95))  # a random phase of the move
                holds.clear()
                resets.clear()
                lines = drive.stats["lines"]
                t0 = time.perf_counter()
                drive.request_stop()
                res = await task
                t_done = time.perf_counter()
                here = drive.position_steps
                # Exact after each stop: raild = the emulator's count = the virtual rail's true position.
                assert res.exact and drive.position_exact, res
                assert here == _true_steps(sim), (here, _true_steps(sim))
                assert here is not None and here + offset == sim.rail.true_position_steps
                running = [(t, pos, v) for t, state, pos, v in holds if state == "Run"]
                if res.reason is None or not running:
                    before_stop += 1  # the move had ended (or was ending) before the stop came
                    continue
                t_hold, at_hold, v_hold = running[0]
                to_hold.append((t_hold - t0) * 1000)
                if resets and v_hold > 0.2 * cruise:  # deceleration distance ÷ v²/2a (from the speed at the hold)
                    decel.append(abs(resets[0] - at_hold) / (v_hold * v_hold / (2 * accel)))
                whole.append((t_done - t0) * 1000)
                extra.append(drive.stats["lines"] - lines)  # lines sent after the stop: the settle move
                if resets:  # steps the settle move added beyond where the hold left the carriage
                    settle_steps.append(abs(here - resets[0]))
            assert sim.rail.lost_steps == 0
    finally:
        await drive.close()
        await sim.stop()
    return {
        "to_hold_ms": to_hold,
        "whole_ms": whole,
        "settles": sum(extra),
        "settle_steps": settle_steps,
        "decel_ratio": decel,
        "ended_first": before_stop,
        "spm": spm,
    }


# ----- the daemon, as a user runs it -----
def daemon_run(backend: str, frames: int) -> dict[str, Any]:
    work = tempdir(f"grbl-{backend}")
    config: dict[str, dict[str, Any]] = {"sim": SIM, "camera": {"settle_ms": 100}}
    if backend == "grbl":
        board: SimGrbl | SimRig = SimGrbl(work, config).start()
        served = {**config, "drive": {"backend": "grbl"}, "grbl": {"port": f"socket://127.0.0.1:{board.port}"}}
    else:
        board = SimRig(work, config).start()
        served = {**config, "pigpio": {"host": "127.0.0.1", "port": board.port}}
    proc, client = serve(work, served, sim=False)
    try:
        home(client)
        out: dict[str, Any] = {"backend": backend}
        assert client.post("/motion/move", json={"to_um": 1000.0, "wait": True}).status_code == 200
        step_um = 100.0
        body = {"start_um": 1000.0, "end_um": 1000.0 + step_um * (frames - 1), "frames": frames}
        cpu0, board_cpu0, t0 = cpu_seconds(proc.pid), cpu_seconds(board.pid), time.monotonic()
        reply = client.post("/stacks", json=body)
        reply.raise_for_status()
        sid = reply.json()["id"]
        done = wait(
            lambda: (s := client.get(f"/stacks/{sid}").json())["state"] not in ("queued", "running") and s,
            300,
            "the stack",
        )
        wall = time.monotonic() - t0
        if done["state"] != "completed":
            raise RuntimeError(f"{backend}: stack ended {done['state']}: {done.get('error')}")
        out["stack_s"] = wall
        manifest = json.loads((work / "state" / "stacks" / sid / "manifest.json").read_text())
        times = [f["time_s"] for f in sorted(manifest["frames"], key=lambda f: f["index"])]
        out["intervals_ms"] = [(b - a) * 1000 for a, b in itertools.pairwise(times)]
        out["stack_cpu"] = (cpu_seconds(proc.pid) - cpu0) / wall
        out["stack_board_cpu"] = (cpu_seconds(board.pid) - board_cpu0) / wall
        cpu0, t0 = cpu_seconds(proc.pid), time.monotonic()
        r = client.post("/motion/move", json={"to_um": 16000.0, "wait": True})
        assert r.status_code == 200, r.text
        out["move_s"] = time.monotonic() - t0
        out["move_cpu"] = (cpu_seconds(proc.pid) - cpu0) / out["move_s"]
        pos = r.json()["status"]["position_um"]
        assert abs(pos - 16000.0) < 0.5, pos
        return out
    finally:
        client.close()
        proc.stop()
        board.stop()


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--stops", type=int, default=30)
    ap.add_argument("--rates", default="20,50", help="status rates (Hz) for the lag measurement")
    ap.add_argument("--lag-s", type=float, default=6.0, help="seconds of motion per rate")
    ap.add_argument("--frames", type=int, default=40)
    ap.add_argument("--no-daemon", action="store_true", help="skip the daemon runs")
    args = ap.parse_args()
    rates = [float(r) for r in args.rates.split(",")]
    print(f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, load average {os.getloadavg()[0]:.1f}")
    print("SIMULATED: grbl emulator / pigpiod emulator, time scale 1, on this machine\n")

    for rate in rates:
        lag = asyncio.run(poll_lag(rate, args.lag_s))
        print(
            f"poll lag at {rate:g} Hz, cruise {lag['cruise_um_s']:g} µm/s: "
            f"{summary(lag['lag_ms'], 'ms')}, mean {statistics.fmean(lag['lag_ms']):.1f} ms; "
            f"{summary(lag['lag_um'], 'µm', 0)}"
        )
    for rate in rates:
        sm = asyncio.run(short_moves(rate, 20))
        beyond = [t - sm["planned_ms"] for t in sm["took_ms"]]
        print(
            f"{sm['step_um']:g} µm move at {rate:g} Hz, move() call → result: {summary(sm['took_ms'], 'ms')}; "
            f"planned {sm['planned_ms']:.1f} ms; beyond the plan: {summary(beyond, 'ms')}"
        )
    st = asyncio.run(stops(args.stops, rates[0]))
    print(f"stop() → emulator feed hold ({rates[0]:g} Hz): {summary(st['to_hold_ms'], 'ms', 2)}")
    print(f"stop() → result (hold, reset, settle move): {summary(st['whole_ms'], 'ms')}")
    print(
        f"position exact after every stop ({len(st['to_hold_ms'])} + {st['ended_first']} that ended first); "
        f"settle moves: {st['settles']}"
    )
    if st["decel_ratio"]:
        dr = st["decel_ratio"]
        print(
            f"hold deceleration distance ÷ v²/2a: min {min(dr):.3f} / "
            f"median {statistics.median(dr):.3f} / max {max(dr):.3f}"
        )
    if st["settle_steps"]:
        ss = st["settle_steps"]
        print(
            f"settle move length ({st['spm']:g} steps/mm, report 1 µm): {min(ss)}-{max(ss)} steps, "
            f"median {statistics.median(ss):g} ({max(ss) / st['spm'] * 1000:.2f} µm at most)"
        )
    print(f"load average now {os.getloadavg()[0]:.1f}")
    if args.no_daemon:
        return
    runs = {}
    try:
        for backend in ("pigpio", "grbl"):
            runs[backend] = r = daemon_run(backend, args.frames)
            print(
                f"{backend}: {args.frames}-frame stack {r['stack_s']:.2f} s, "
                f"{r['stack_s'] / args.frames * 1000:.0f} ms/frame (exposure to exposure: "
                f"{summary(r['intervals_ms'], 'ms', 0)}), daemon CPU {r['stack_cpu'] * 100:.0f} % "
                f"(emulator process {r['stack_board_cpu'] * 100:.0f} %); 15 mm move {r['move_s']:.2f} s, "
                f"daemon CPU {r['move_cpu'] * 100:.0f} %"
            )
    finally:
        remove_tempdirs()
    print(f"stack time grbl ÷ pigpio: {runs['grbl']['stack_s'] / runs['pigpio']['stack_s']:.3f}")
    print(f"load average now {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
