"""API benchmarks on loopback against the simulated rig (bounded; stops by itself).

    .venv/bin/python bench/api.py [--rate 200] [--seconds 10] [--trials 30]

The daemon (uvicorn + `Daemon(sim=True)`: pigpiod emulator, virtual rail,
simulated camera) runs in this process on its own event-loop thread, exactly as
`raild serve --sim` builds it. Load comes from a separate process so it does not
share the server's GIL. Measures:

- status p50/p99: `GET /api/v1/status` at a fixed open-loop rate while a
  simulated stack runs;
- stop and e-stop latency: request sent → running wave halted, the halt dated by
  the emulator's own clock (its wave engine is observed, not changed), while the
  status load runs;
- SSE: `status` events per second received while the rail moves.

All figures are for the simulated rig on this machine, not a Pi.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import platform
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import uvicorn  # noqa: E402

from raild.api.app import create_app  # noqa: E402
from raild.config import Config, validate_data  # noqa: E402
from raild.daemon import Daemon  # noqa: E402
from tests.support.ports import free_port  # noqa: E402
from tests.support.waiting import wait_for  # noqa: E402

TOKEN = "bench-token-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def _config() -> Config:
    data: dict[str, Any] = Config().model_dump()
    data["sim"].update(start_position_um=1500.0, capture_latency_ms=20, download_ms=20, preview_ms=5)
    data["camera"].update(settle_ms=50)
    data["homing"].update(approach_speed_um_s=1000.0)
    data["rail"].update(idle_disable_s=0)
    return validate_data(data, "bench")


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


class Server:
    """Daemon + uvicorn on a thread with its own loop; halts recorded from the rig."""

    def __init__(self, state_dir: Path) -> None:
        self.port = free_port()
        self.daemon = Daemon(_config(), state_dir, TOKEN, sim=True)
        self.halts_s: list[float] = []  # host monotonic time of each halt of a running wave
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._server: uvicorn.Server | None = None
        self._thread = threading.Thread(target=self._run, name="bench-server", daemon=True)

    def _observe_halts(self) -> None:
        emu = self.daemon.sim.emu
        engine, clock, original = emu.engine, emu.clock, emu.engine.halt

        def halt(now_us: int) -> None:
            engine.advance_to(now_us)
            if engine.busy:  # replacing an idle engine is not a halt
                self.halts_s.append(clock.monotonic_at(now_us))
            original(now_us)

        engine.halt = halt  # type: ignore[method-assign]

    async def _lag_probe(self, seconds: float) -> list[float]:
        """How late the server's loop wakes from 10 ms sleeps (ms): its responsiveness."""
        lags_ms = []
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            t0 = time.perf_counter()
            await asyncio.sleep(0.01)
            lags_ms.append((time.perf_counter() - t0 - 0.01) * 1000)
        return lags_ms

    def loop_lag(self, seconds: float) -> Any:
        """Start the probe on the server loop; `.result()` gives the lags."""
        return asyncio.run_coroutine_threadsafe(self._lag_probe(seconds), self._loop)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._serve())

    async def _serve(self) -> None:
        await self.daemon.start()
        self._observe_halts()
        self._server = uvicorn.Server(
            uvicorn.Config(
                create_app(self.daemon),
                host="127.0.0.1",
                port=self.port,
                log_config=None,
                access_log=False,
                lifespan="off",
                ws="none",
            )
        )
        task = asyncio.create_task(self._server.serve())
        while not self._server.started:
            if task.done():
                return
            await asyncio.sleep(0.01)
        self._ready.set()
        await task
        await self.daemon.stop()

    def __enter__(self) -> Server:
        self._thread.start()
        if not self._ready.wait(30):
            raise RuntimeError("the daemon did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.should_exit = True
        self._thread.join(15)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


# ---- load generator (child process) ----


async def _status_load(url: str, rate_hz: float, seconds: float) -> list[float]:
    latencies_ms: list[float] = []
    interval = 1.0 / rate_hz
    limits = httpx.Limits(max_connections=32, max_keepalive_connections=32)
    async with httpx.AsyncClient(base_url=url, headers=AUTH, timeout=5, limits=limits) as client:

        async def one() -> None:
            t0 = time.perf_counter()
            r = await client.get("/api/v1/status")
            if r.status_code == 200:
                latencies_ms.append((time.perf_counter() - t0) * 1000)

        tasks = []
        start = time.perf_counter()
        n = int(rate_hz * seconds)
        for i in range(n):  # open loop: requests go out on schedule, slow answers or not
            delay = start + i * interval - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one()))
        await asyncio.gather(*tasks, return_exceptions=True)
    return latencies_ms


def _load_process(url: str, rate_hz: float, seconds: float, out: Any) -> None:
    out.put(asyncio.run(_status_load(url, rate_hz, seconds)))


# ---- measurements (main thread, blocking clients) ----


def _wait_idle(client: httpx.Client, timeout_s: float = 30) -> dict[str, Any]:
    return wait_for(
        lambda: (s := client.get("/api/v1/status").json())["state"] in ("idle", "fault", "estop") and s,
        timeout_s,
        "the rig to come to rest",
        every_s=0.05,
        error=RuntimeError,
    )


def _stop_latency(server: Server, client: httpx.Client, trials: int, kind: str) -> tuple[list[float], int]:
    """Latencies, and how many halts left the position unknown (re-homed then)."""
    latencies_ms = []
    unhomed = 0
    for i in range(trials):
        target = 8_000.0 if i % 2 == 0 else 1_000.0
        r = client.post("/api/v1/motion/move", json={"to_um": target})
        if r.status_code != 202:
            raise RuntimeError(f"move refused: {r.text}")
        time.sleep(random.uniform(0.15, 0.35))  # stop at cruise or while ramping
        before = len(server.halts_s)
        sent = time.monotonic()
        r = client.post(f"/api/v1/motion/{kind}")
        if r.status_code != 200:
            raise RuntimeError(f"{kind} refused: {r.text}")
        deadline = time.monotonic() + 2
        while len(server.halts_s) == before and time.monotonic() < deadline:
            time.sleep(0.001)
        halted = [t for t in server.halts_s[before:] if t >= sent - 0.001]
        if halted:
            latencies_ms.append((halted[0] - sent) * 1000)
        if kind == "estop":
            deadline = time.monotonic() + 5
            while (r := client.post("/api/v1/motion/reset")).status_code == 409:
                if time.monotonic() > deadline:  # the interrupted move is still winding down
                    raise RuntimeError(f"reset refused: {r.text}")
                time.sleep(0.02)
        status = _wait_idle(client, timeout_s=60)
        if not status.get("homed"):  # the halt could not be dated exactly: home again
            unhomed += 1
            client.post("/api/v1/motion/home")
            _wait_idle(client, timeout_s=60)
    return latencies_ms, unhomed


async def _sse_rate(url: str) -> tuple[int, float]:
    async with httpx.AsyncClient(base_url=url, headers=AUTH, timeout=30) as client:
        async with client.stream("GET", "/api/v1/events") as r:
            lines = r.aiter_lines()
            start_move = await client.post("/api/v1/motion/move", json={"to_um": 9_000.0})
            if start_move.status_code != 202:
                raise RuntimeError(start_move.text)
            times: list[float] = []
            event = ""
            async for line in lines:
                if line.startswith("event:"):
                    event = line[6:].strip()
                elif line.startswith("data:") and event == "status":
                    state = json.loads(line[5:])["state"]
                    if state == "moving":
                        times.append(time.monotonic())
                    elif times:
                        break
    return len(times), times[-1] - times[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=200.0, help="status requests per second")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of the status run")
    parser.add_argument("--trials", type=int, default=30, help="stops and e-stops each")
    args = parser.parse_args()
    ctx = mp.get_context("spawn")
    results: dict[str, Any] = {}
    with (
        tempfile.TemporaryDirectory() as tmp,
        Server(Path(tmp)) as server,
        httpx.Client(base_url=server.url, headers=AUTH, timeout=10) as client,
    ):
        client.post("/api/v1/motion/home")
        _wait_idle(client)

        # 1. status under load while a simulated stack runs
        job = client.post(
            "/api/v1/stacks", json={"start_um": 1000, "end_um": 9000, "frames": 400, "return_to_start": False}
        )
        if job.status_code != 201:
            raise RuntimeError(job.text)
        queue = ctx.Queue()
        loader = ctx.Process(target=_load_process, args=(server.url, args.rate, args.seconds, queue))
        loader.start()
        lag = server.loop_lag(args.seconds)
        status_ms = queue.get(timeout=args.seconds + 60)
        loader.join(10)
        lag_ms = lag.result(timeout=30)
        frames = client.get(f"/api/v1/stacks/{job.json()['id']}").json()["frame"]
        client.post("/api/v1/motion/stop")  # pauses the stack; cancel ends it where it is
        client.post(f"/api/v1/stacks/{job.json()['id']}/cancel")
        _wait_idle(client)

        # 2. stop and e-stop latency while the status load runs
        background = ctx.Queue()  # kept referenced while the child runs
        loader = ctx.Process(target=_load_process, args=(server.url, args.rate, args.trials * 2.5, background))
        loader.start()
        try:
            stop_ms, stop_unhomed = _stop_latency(server, client, args.trials, "stop")
            estop_ms, estop_unhomed = _stop_latency(server, client, args.trials, "estop")
        finally:
            loader.terminate()
            loader.join(10)

        # 3. SSE rate while moving
        client.post("/api/v1/motion/move", json={"to_um": 1_000.0, "wait": True})
        count, duration_s = asyncio.run(_sse_rate(server.url))

    results = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"load average {os.getloadavg()[0]:.1f}",
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "status": {
            "rate_hz": args.rate,
            "seconds": args.seconds,
            "answered": len(status_ms),
            "sent": int(args.rate * args.seconds),
            "p50_ms": round(_pct(status_ms, 50), 2),
            "p99_ms": round(_pct(status_ms, 99), 2),
            "max_ms": round(max(status_ms), 2),
            "stack_frames_during_run": frames,
            "server_loop_lag_p99_ms": round(_pct(lag_ms, 99), 2),
            "server_loop_lag_max_ms": round(max(lag_ms), 2),
        },
        "stop": {
            "trials": len(stop_ms),
            "position_lost": stop_unhomed,
            "p50_ms": round(_pct(stop_ms, 50), 2),
            "p99_ms": round(_pct(stop_ms, 99), 2),
            "max_ms": round(max(stop_ms), 2),
        },
        "estop": {
            "trials": len(estop_ms),
            "position_lost": estop_unhomed,
            "p50_ms": round(_pct(estop_ms, 50), 2),
            "p99_ms": round(_pct(estop_ms, 99), 2),
            "max_ms": round(max(estop_ms), 2),
        },
        "sse": {
            "status_events_while_moving": count,
            "seconds": round(duration_s, 2),
            "rate_hz": round((count - 1) / duration_s, 1) if duration_s > 0 else None,
        },
    }
    print(json.dumps(results, indent=2))
    print(f"status mean {statistics.fmean(status_ms):.2f} ms", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
