"""Benchmarks of the deployment pieces (host timing on the build machine).

    .venv/bin/python bench/deploy_bench.py [--trials 10]

- `raild check` end to end (a fresh process, as the installer and users run it)
  against the pigpiod emulator, and its pigpiod probe alone.
- mDNS: how long `Advertiser.start()` holds the caller (it must not delay READY)
  and how long until a zeroconf browser on this machine resolves the name.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from zeroconf.asyncio import AsyncServiceInfo, AsyncZeroconf

from raild.check import PigpiodFacts, check_pigpiod
from raild.config import Config
from raild.mdns import SERVICE_TYPE, Advertiser
from raild.sim.testing import running_rig


def _ms(values: list[float]) -> str:
    ordered = sorted(values)
    p90 = ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]
    return f"p50 {statistics.median(values) * 1000:.1f} ms, p90 {p90 * 1000:.1f} ms (n={len(values)})"


def bench_check(trials: int) -> None:
    with running_rig() as rig, tempfile.TemporaryDirectory() as tmp:
        config_path = Path(tmp) / "raild.toml"
        config_path.write_text(f"[pigpio]\nport = {rig.port}\n")
        runs = []
        for _ in range(trials):
            started = time.perf_counter()
            proc = subprocess.run(
                [sys.executable, "-m", "raild", "check", "--config", str(config_path), "--state-dir", tmp],
                capture_output=True,
                text=True,
                check=False,
            )
            runs.append(time.perf_counter() - started)
            assert proc.returncode == 0, proc.stdout + proc.stderr
        config = Config.model_validate({"pigpio": {"port": rig.port}})
        probes = []
        for _ in range(trials * 10):
            started = time.perf_counter()
            check_pigpiod(config, PigpiodFacts())
            probes.append(time.perf_counter() - started)
    print(f"raild check, whole process (emulator, sim camera): {_ms(runs)}")
    print(f"pigpiod probe (connect, HWVER, PIGPV, MODEG x7): {_ms(probes)}")


async def bench_mdns(trials: int) -> None:
    start_calls, visible = [], []
    browser = AsyncZeroconf()
    try:
        for _ in range(trials):
            name = f"raild-bench-{uuid.uuid4().hex[:8]}"
            adv = Advertiser(Config.model_validate({"daemon": {"name": name}}), 8000)
            started = time.perf_counter()
            await adv.start()
            start_calls.append(time.perf_counter() - started)
            info = AsyncServiceInfo(SERVICE_TYPE, f"{name}.{SERVICE_TYPE}")
            while not await info.async_request(browser.zeroconf, 250):
                pass
            visible.append(time.perf_counter() - started)
            await adv.close()
    finally:
        await browser.async_close()
    print(f"Advertiser.start() returns after: {_ms(start_calls)}")
    print(f"name resolvable by a browser after: {_ms(visible)}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=10)
    args = parser.parse_args()
    bench_check(args.trials)
    asyncio.run(bench_mdns(args.trials))


if __name__ == "__main__":
    main()
