"""grbl drive benchmarks against the grbl emulator (simulated; bounded, stops by itself).

    .venv/bin/python bench/grbl_bench.py [--trials 10] [--status-hz 20]

Measures, over socket:// on loopback with the emulator in this process:

- poll lag: age of the position the drive has when it reads a report, i.e. the
  time from asking `?` to the report arriving (host ms);
- stop → hold: request_stop() → the first report that shows Hold (host ms), and the
  steps run after the request compared with v²/2a (emulated time scale 1);
- CPU: process CPU seconds per wall second while a long move streams status.

All figures are for the simulated board on this machine, not a real grbl board,
where USB latency (~1-2 ms per transfer) adds to every figure.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from raild.config import Config  # noqa: E402
from raild.drives.grbl import messages as m  # noqa: E402
from raild.drives.grbl.drive import GrblDrive  # noqa: E402
from raild.sim.grbl.sim import GrblSim  # noqa: E402


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def _run(trials: int, status_hz: float) -> None:
    config = Config().with_overrides(
        sim={"time_scale": 1.0, "start_position_um": 10_000.0},
        rail={"microsteps": 8},
        grbl={"status_hz": status_hz},
    )
    sim = GrblSim(config)
    url = await sim.start()
    drive = GrblDrive(config, url)
    await drive.start()
    await drive.home()
    spm = config.rail.steps_per_mm
    speed = config.rail.max_speed_um_s / 1000 * spm
    brake = speed * speed / (2 * config.rail.accel_um_s2 / 1000 * spm)
    await drive.move(round(40 * spm), speed, 0.0, 0.0, lambda s: None)  # to mid-travel: room both ways

    lags = []
    for _ in range(50):
        t0 = time.perf_counter()
        await drive._next_report(2.0)
        lags.append((time.perf_counter() - t0) * 1000)

    to_hold, overrun = [], []
    for i in range(trials):
        direction = 1 if i % 2 == 0 else -1
        going = asyncio.Event()
        seen: list[int] = []

        def progress(steps: int, going: asyncio.Event = going, seen: list[int] = seen) -> None:
            seen.append(steps)
            if abs(steps) > spm:
                going.set()

        task = asyncio.create_task(drive.move(direction * round(20 * spm), speed, 0.0, 0.0, progress))
        await asyncio.wait([task, asyncio.create_task(going.wait())], return_when=asyncio.FIRST_COMPLETED)
        if task.done():
            task.result()  # a move that ended early is a bench failure: say why
        at = seen[-1]
        t0 = time.perf_counter()
        drive.request_stop()
        while True:
            st: m.Status = await drive._next_report(2.0, ask=False)
            if st.state == "Hold":
                to_hold.append((time.perf_counter() - t0) * 1000)
                break
        res = await task
        overrun.append(abs(res.steps - at))

    cpu0, wall0 = time.process_time(), time.perf_counter()
    await drive.move(round(10 * spm), speed, 0.0, 0.0, lambda s: None)
    cpu = (time.process_time() - cpu0) / (time.perf_counter() - wall0)

    print(f"poll lag (ask → report): p50 {statistics.median(lags):.2f} ms, p99 {_pct(lags, 0.99):.2f} ms")
    print(f"stop → Hold report: p50 {statistics.median(to_hold):.1f} ms, max {max(to_hold):.1f} ms ({status_hz:g} Hz)")
    print(
        f"steps after the request: median {statistics.median(overrun):.0f}, max {max(overrun)} "
        f"(v²/2a = {brake:.0f}; the rest is the report the request was based on being old)"
    )
    print(f"CPU while streaming a move (drive + emulator, one process): {cpu * 100:.0f} %")
    print("simulated board on this machine; not a real grbl board")
    await drive.close()
    await sim.stop()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=10)
    ap.add_argument("--status-hz", type=float, default=20.0)
    args = ap.parse_args()
    asyncio.run(_run(args.trials, args.status_hz))


if __name__ == "__main__":
    main()
