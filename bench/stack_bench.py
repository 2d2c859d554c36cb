"""Stack runner benchmark: what the stack layer adds to each frame, and hidden downloads.

Run: .venv/bin/python bench/stack_bench.py [--frames N] [--settle-ms MS]
Everything is the real code on the virtual rig (pigpiod emulator, real pigpio client,
`Rail`) with the simulated camera (simulated latencies: capture 150 ms, download 80 ms).

Per frame k > 1, the gap from the return of capture k-1 to the start of capture k is
move k + settle + what the stack layer adds (recording frame k-1, events, bookkeeping,
and any wait for a download the move did not hide). The target is ≤ 10 ms added.
A download is hidden when its file was on disk before the next move and settle ended.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from raild.camera.sim import SimCamera  # noqa: E402
from raild.config import Config  # noqa: E402
from raild.events import EventBus  # noqa: E402
from raild.hw import Hardware  # noqa: E402
from raild.motion.rail import Rail  # noqa: E402
from raild.sim.rig import SimRig  # noqa: E402
from raild.stacks import StackManager  # noqa: E402


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


async def bench(frames: int, settle_ms: int, step_um: float) -> dict[str, Any]:
    cfg = Config().with_overrides(
        sim={"start_position_um": 2000.0},
        homing={"backoff_um": 300.0},
        camera={"settle_ms": settle_ms},
    )
    events = EventBus()
    events.bind_loop(asyncio.get_running_loop())
    rig = SimRig(cfg)
    await rig.start("127.0.0.1", 0)
    hw = await Hardware.connect(cfg, rig.host, rig.port)
    rail = Rail(cfg, hw, events)
    await rail.start()
    await rail.home()
    camera = SimCamera(
        cfg, position_um=lambda: rig.rail.true_position_um, on_exposure=rig.record_capture, events=events
    )
    await camera.open()
    moves: list[tuple[float, float]] = []
    shots: list[tuple[float, float]] = []
    downloads: list[float] = []
    real_move, real_capture = rail.move_to_steps, camera.capture

    async def timed_move(steps: int, *args: Any, **kw: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return await real_move(steps, *args, **kw)
        finally:
            moves.append((t0, time.perf_counter()))

    async def timed_capture(dest: Path) -> Any:
        t0 = time.perf_counter()
        capture = await real_capture(dest)
        shots.append((t0, time.perf_counter()))
        capture.download.add_done_callback(lambda _f: downloads.append(time.perf_counter()))
        return capture

    rail.move_to_steps = timed_move  # type: ignore[method-assign]
    camera.capture = timed_capture  # type: ignore[method-assign]
    with tempfile.TemporaryDirectory() as state:
        stacks = StackManager(cfg, Path(state), rail, camera, events)
        await stacks.start()
        start_um = 2500.0
        watch = events.subscribe(100_000)
        began = time.perf_counter()
        stack = stacks.create(
            {
                "start_um": start_um,
                "end_um": start_um + step_um * (frames - 1),
                "frames": frames,
                "return_to_start": False,
            }
        )
        async for event in watch:
            if event.kind == "job:state" and event.data["state"] in ("completed", "failed", "paused"):
                break
        assert stack.state == "completed", stack.error
        took_s = time.perf_counter() - began
        await stacks.stop()
    await camera.close()
    await rail.close()
    await hw.close()
    await rig.stop()
    added_ms, hidden = [], 0
    for k in range(1, frames):
        gap = shots[k][0] - shots[k - 1][1]
        move = moves[k][1] - moves[k][0]  # moves[0] is the move to the first position
        added_ms.append((gap - move) * 1000 - settle_ms)
        if downloads[k - 1] <= moves[k][1] + settle_ms / 1000:
            hidden += 1
    move_ms = [(b - a) * 1000 for a, b in moves[1:]]
    return {
        "added_ms": added_ms,
        "hidden": hidden,
        "frames": frames,
        "move_ms": move_ms,
        "estimate_s": stack.estimate_s,
        "took_s": took_s,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--frames", type=int, default=40)
    parser.add_argument("--settle-ms", type=int, default=100)
    parser.add_argument("--step-um", type=float, default=100.0)
    args = parser.parse_args()
    r = asyncio.run(bench(args.frames, args.settle_ms, args.step_um))
    added = r["added_ms"]
    print(
        f"stack of {r['frames']} frames, step {args.step_um:g} µm, settle {args.settle_ms} ms "
        f"(simulated camera: capture 150 ms, download 80 ms)"
    )
    print(f"move per frame       median {statistics.median(r['move_ms']):7.1f} ms")
    print(
        f"added by stack layer median {statistics.median(added):7.2f} ms  p95 {pct(added, 95):7.2f} ms"
        f"  max {max(added):7.2f} ms  (target ≤ 10 ms)"
    )
    print(f"downloads hidden     {r['hidden']}/{r['frames'] - 1} behind the next move + settle")
    print(f"plan estimate        {r['estimate_s']:.2f} s, took {r['took_s']:.2f} s")


if __name__ == "__main__":
    main()
