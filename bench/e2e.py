"""End-to-end benchmark of `raild serve` on loopback: what a user's rig would feel.

Run: .venv/bin/python bench/e2e.py [--frames 100] [--trials 30]
Stops by itself (about three minutes on two cores); every process it starts is stopped.
Everything runs on the virtual rig (pigpiod emulator) and the simulated camera, or
libgphoto2's virtual camera where stated: the figures are simulated, not a Pi's.

Measures, against DESIGN.md's targets:
- time from spawn to READY=1 on a real NOTIFY_SOCKET, idle RSS and idle CPU, of
  `raild serve --sim` and of `raild serve` alone pointed at a `raild sim-rig` process;
- per-frame overhead of a 100-frame simulated stack beyond its planned move + settle +
  camera time (exposure instants from the manifest, plan times from the motion profile);
- status latency at 200 requests/s while a stack runs;
- stop latency under load: POST /motion/stop to the instant the running wave was
  replaced, dated by the halt marker's DIR edge on the emulator's own tick;
- the do-it-yourself way (one capture process per frame) on the virtual camera.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import pigpio  # noqa: E402

from bench import e2e_diy  # noqa: E402
from bench.e2e_load import EventReaders, StatusLoad, pct  # noqa: E402
from bench.e2e_procs import (  # noqa: E402
    AUTH,
    TOKEN,
    SimRig,
    home,
    idle_cpu_percent,
    remove_tempdirs,
    rss_mb,
    run_stack,
    serve,
    tempdir,
    wait,
)
from raild.config import load_config  # noqa: E402
from raild.stacks.estimate import capture_time_ms, position_times_s  # noqa: E402
from raild.stacks.geometry import RailGeometry  # noqa: E402
from raild.stacks.plan import Plan  # noqa: E402

DIR_PIN = 21  # config default; the halt marker toggles it
IDLE_SAMPLE_S = 10.0
RAILD_VCAM_FRAMES = 20  # libgphoto2's virtual camera runs out of memory after 26 captures a session
BASE: dict[str, dict[str, Any]] = {
    "sim": {"start_position_um": 2000.0, "capture_latency_ms": 100, "download_ms": 60},
    "camera": {"settle_ms": 50},
    "homing": {"backoff_um": 300.0},
    "daemon": {"mdns": False, "log_level": "warning"},
}
ROWS: list[tuple[str, str, str, str]] = []


def row(metric: str, target: str, measured: str, note: str = "") -> None:
    ROWS.append((metric, target, measured, note))
    print(f"  {metric}: {measured}  (target {target}) {note}", flush=True)


def merged(**sections: dict[str, Any]) -> dict[str, dict[str, Any]]:
    out = {k: dict(v) for k, v in BASE.items()}
    for name, values in sections.items():
        out.setdefault(name, {}).update(values)
    return out


def frame_overheads_ms(workdir: Path, stack: dict[str, Any], capture_ms: float | None = None) -> list[float]:
    """Time between successive exposures beyond the plan's move + settle + camera time."""
    import json

    config = load_config(workdir / "raild.toml")
    manifest = json.loads((workdir / "state" / "stacks" / stack["id"] / "manifest.json").read_text())
    plan = Plan.from_dict(manifest["plan"])
    geo = RailGeometry.from_config(config.rail)
    planned_s = position_times_s(plan, geo, capture_time_ms(config) if capture_ms is None else capture_ms)
    times = [f["time_s"] for f in sorted(manifest["frames"], key=lambda f: f["index"])]
    return [((times[k] - times[k - 1]) - planned_s[k]) * 1000 for k in range(1, len(times))]


def summary_ms(values: list[float]) -> str:
    return (
        f"median {statistics.median(values):.1f} ms, p90 {pct(values, 90):.1f}, max {max(values):.1f} (n={len(values)})"
    )


# ---- footprint and readiness --------------------------------------------------------
def footprint() -> None:
    print("start-up, idle footprint", flush=True)
    readies = []
    for i in range(3):
        work = tempdir("ready")
        proc, client = serve(work, merged(), sim=True)
        readies.append(proc.ready_s or float("nan"))
        if i == 0:
            time.sleep(3.0)  # let start-up work (subject render, first events) finish
            cpu = idle_cpu_percent(proc.pid, IDLE_SAMPLE_S)
            rss = rss_mb(proc.pid)
        client.close()
        proc.stop()
    row(
        "READY after spawn, `serve --sim`",
        "≤ 2 s",
        f"median {statistics.median(readies):.2f} s, max {max(readies):.2f} s (n=3)",
        "spawn → READY=1 on NOTIFY_SOCKET",
    )
    row("idle RSS, `serve --sim`", "≤ 80 MB", f"{rss:.1f} MB", "daemon + in-process emulator + sim camera")
    row("idle CPU, `serve --sim`", "≈ 0", f"{cpu:.2f} % of one core", f"over {IDLE_SAMPLE_S:g} s")

    work = tempdir("alone")
    rig = SimRig(work, merged()).start()
    try:
        proc, client = serve(work, merged(pigpio={"host": "127.0.0.1", "port": rig.port}), sim=False)
        try:
            time.sleep(3.0)
            cpu_d = idle_cpu_percent(proc.pid, IDLE_SAMPLE_S)
            rss_d, rss_r = rss_mb(proc.pid), rss_mb(rig.pid)
            cpu_r = idle_cpu_percent(rig.pid, 3.0)
        finally:
            client.close()
            proc.stop()
    finally:
        rig.stop()
    row("READY after spawn, `serve` → sim-rig", "≤ 2 s", f"{proc.ready_s:.2f} s", "pigpiod is a separate process")
    row(
        "idle RSS, `serve` without emulator",
        "≤ 80 MB",
        f"{rss_d:.1f} MB",
        f"(the `sim-rig` process itself: {rss_r:.1f} MB)",
    )
    row("idle CPU, `serve` without emulator", "≈ 0", f"{cpu_d:.2f} % of one core", f"(`sim-rig`: {cpu_r:.2f} %)")


# ---- stacks ----------------------------------------------------------------------------
def stack_body(frames: int) -> dict[str, Any]:
    return {"start_um": 2500.0, "end_um": 2500.0 + 20.0 * (frames - 1), "frames": frames}


def stack_overhead(frames: int) -> None:
    print(f"{frames}-frame simulated stack", flush=True)
    work = tempdir("stack")
    proc, client = serve(work, merged(), sim=True)
    try:
        home(client)
        t0 = time.monotonic()
        stack = run_stack(client, stack_body(frames))
        wall_s = time.monotonic() - t0
        overheads = frame_overheads_ms(work, stack)
        row(
            "per-frame overhead, no load",
            "≤ 10 ms",
            summary_ms(overheads),
            f"mean {statistics.fmean(overheads):.1f} ms; stack {wall_s:.1f} s vs planned "
            f"{stack['plan']['estimate_s']:.1f} s",
        )

        print("same stack under 200 status requests/s", flush=True)
        load = StatusLoad(f"{client.base_url}", AUTH, 200.0)
        try:
            stack = run_stack(client, stack_body(frames))
        finally:
            load.stop()
        lat = load.latencies_ms
        row(
            "status latency at 200 req/s while stacking",
            "p99 ≤ 50 ms",
            f"p50 {pct(lat, 50):.1f} ms, p99 {pct(lat, 99):.1f} ms, max {max(lat):.1f} ms",
            f"{load.achieved_hz:.0f} req/s achieved, {load.errors} errors, n={len(lat)}",
        )
        overheads = frame_overheads_ms(work, stack)
        row("per-frame overhead, under that load", "—", summary_ms(overheads))
    finally:
        client.close()
        proc.stop()

    # The simulated camera renders every frame on this machine's CPU (a real camera does
    # that work itself); tiny frames show what is left when that cost is taken away.
    work = tempdir("stack-small")
    proc, client = serve(work, merged(sim={"image_width": 96, "image_height": 64}), sim=True)
    try:
        home(client)
        stack = run_stack(client, stack_body(frames))
        row(
            "per-frame overhead, 96×64 simulated frames",
            "≤ 10 ms",
            summary_ms(frame_overheads_ms(work, stack)),
            "the simulated camera's rendering taken out of the picture",
        )
    finally:
        client.close()
        proc.stop()


# ---- stop latency ------------------------------------------------------------------------
class DirEdges:
    """DIR edges as the emulator dates them, mapped onto this host's monotonic clock."""

    def __init__(self, port: int) -> None:
        self.pi = pigpio.pi("127.0.0.1", port)
        if not self.pi.connected:
            raise RuntimeError("cannot reach the virtual rig")
        best = None
        for _ in range(20):  # the tightest bracket of a tick read gives the offset
            a = time.monotonic()
            tick = self.pi.get_current_tick()
            b = time.monotonic()
            if best is None or b - a < best[0]:
                best = (b - a, (a + b) / 2 - tick / 1e6)
        assert best is not None
        self.bracket_s, self.offset_s = best
        self.edges: list[float] = []
        self._lock = threading.Lock()
        self._cb = self.pi.callback(DIR_PIN, pigpio.EITHER_EDGE, self._edge)

    def _edge(self, gpio: int, level: int, tick: int) -> None:
        with self._lock:
            self.edges.append(self.offset_s + tick / 1e6)

    def first_after(self, t: float) -> float | None:
        with self._lock:
            later = [e for e in self.edges if e >= t]
        return min(later) if later else None

    def close(self) -> None:
        self._cb.cancel()
        self.pi.stop()


def stop_latency(trials: int) -> None:
    print(f"stop latency under load ({trials} stops)", flush=True)
    work = tempdir("stop")
    rig = SimRig(work, merged()).start()
    proc = client = edges = load = readers = None
    latencies, replies, unknown, missing = [], [], 0, 0
    try:
        proc, client = serve(work, merged(pigpio={"host": "127.0.0.1", "port": rig.port}), sim=False)
        home(client)
        edges = DirEdges(rig.port)
        load = StatusLoad(str(client.base_url), AUTH, 200.0)
        port = int(str(client.base_url).split(":")[2].split("/")[0])
        readers = EventReaders("127.0.0.1", port, TOKEN, 10)
        rng = random.Random(7)
        for _ in range(trials):
            status = client.get("/status").json()
            target = 60_000.0 if status["position_um"] < 30_000 else 5_000.0
            assert client.post("/motion/move", json={"to_um": target}).status_code == 202
            time.sleep(rng.uniform(0.3, 0.6))  # cruising by then
            t0 = time.monotonic()
            client.post("/motion/stop")
            replies.append((time.monotonic() - t0) * 1000)
            wait(lambda: client.get("/status").json()["state"] == "idle", 20, "the stop")
            edge = edges.first_after(t0)
            if edge is None:
                missing += 1
            else:
                latencies.append((edge - t0) * 1000)
            if not client.get("/status").json()["position_known"]:
                unknown += 1
                home(client)
    finally:
        for part in (readers, load):
            if part is not None:
                part.close() if isinstance(part, EventReaders) else part.stop()
        if edges is not None:
            edges.close()
        if client is not None:
            client.close()
        if proc is not None:
            proc.stop()
        rig.stop()
    row(
        "stop latency (request → wave halted)",
        "p99 ≤ 20 ms",
        f"p50 {pct(latencies, 50):.1f} ms, p99 {pct(latencies, 99):.1f} ms, max {max(latencies):.1f} ms",
        f"n={len(latencies)}, 200 status req/s + 10 event streams; clock mapping ±{edges.bracket_s * 500:.2f} ms"
        if edges
        else "",
    )
    row("stop reply (HTTP round trip)", "—", f"p50 {pct(replies, 50):.0f} ms, p99 {pct(replies, 99):.0f} ms")
    row(
        "stops that left the position unknown",
        "0",
        f"{unknown} of {trials}",
        f"{missing} without a halt edge" if missing else "",
    )


# ---- do it yourself ---------------------------------------------------------------------------
def diy(frames: int) -> None:
    print("one process per frame vs raild, on libgphoto2's virtual camera", flush=True)
    work = tempdir("diy")
    vcam = e2e_diy.make_vcam_dir(work / "vcam")
    cli = e2e_diy.cli_per_frame_ms(vcam, work / "cli", frames)
    py = e2e_diy.python_per_frame_ms(vcam, work / "py", frames)
    settle_ms = 50
    config = merged(camera={"backend": "gphoto2", "settle_ms": settle_ms})
    proc, client = serve(work / "raild", config, sim=True, env={"VCAMERADIR": str(vcam)})
    try:
        home(client)
        stack = run_stack(client, stack_body(RAILD_VCAM_FRAMES))
        # Beyond move + settle: the camera's own time plus everything raild adds.
        beyond = frame_overheads_ms(work / "raild", stack, capture_ms=0.0)
    finally:
        client.close()
        proc.stop()
    if isinstance(cli, str):
        row("DIY: `gphoto2 --capture-image-and-download` per frame", "—", "not measured", cli)
    else:
        row(
            "DIY: `gphoto2 --capture-image-and-download` per frame",
            "—",
            f"median {statistics.median(cli):.0f} ms, max {max(cli):.0f} ms (n={len(cli)})",
            f"{e2e_diy.cli_version()} (Debian) loading the wheel's vusb driver; + the script's sleeps",
        )
    row(
        "DIY: one python-gphoto2 process per frame",
        "—",
        f"median {statistics.median(py):.0f} ms, max {max(py):.0f} ms (n={len(py)})",
        "start Python, import, init, capture, download, exit",
    )
    row(
        "raild, gphoto2 backend: per frame beyond move + settle",
        "—",
        summary_ms(beyond),
        "one session; download overlaps the next move",
    )


def machine() -> list[str]:
    uname = subprocess.run(["uname", "-a"], capture_output=True, text=True).stdout.strip()
    return [
        f"- Date: {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- Machine: `{uname}`, {os.cpu_count()} cores (shared with other work while measuring)",
        f"- Python {platform.python_version()}; everything on loopback, simulated rig",
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=100)
    parser.add_argument("--trials", type=int, default=30)
    parser.add_argument("--diy-frames", type=int, default=10)
    parser.add_argument(
        "--only",
        action="append",
        choices=["footprint", "stack", "stop", "diy"],
        help="run only these parts (repeatable)",
    )
    args = parser.parse_args()
    parts = {
        "footprint": footprint,
        "stack": lambda: stack_overhead(args.frames),
        "stop": lambda: stop_latency(args.trials),
        "diy": lambda: diy(args.diy_frames),
    }
    started = time.monotonic()
    try:
        for name, run in parts.items():
            if not args.only or name in args.only:
                run()
    finally:
        remove_tempdirs()
    print("\n## End to end\n")
    print("\n".join(machine()))
    print(f"- `bench/e2e.py --frames {args.frames} --trials {args.trials}`, {time.monotonic() - started:.0f} s\n")
    print("| Measure | Target | Measured (simulated) | Notes |")
    print("|---|---|---|---|")
    for metric, target, measured, note in ROWS:
        print(f"| {metric} | {target} | {measured} | {note} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
