"""Camera layer benchmarks: what the camera adds to each frame of a stack.

Run: .venv/bin/python bench/camera_bench.py [--frames N]
Measures (all simulated except the gphoto2 part, which uses libgphoto2's virtual
camera in a child process):
- render: simulated-camera render + JPEG encode per frame at two sizes;
- overhead: capture() return time beyond the configured sim.capture_latency_ms;
- hidden downloads: frames whose download finished before the next move ended;
- live view: extra wait a capture sees while live view runs at its cap;
- gphoto2 (virtual camera): confirm latency and download time through the worker
  thread, against bare python-gphoto2 calls.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from raild.camera.liveview import LiveView  # noqa: E402
from raild.camera.render import Optics, Subject, encode_jpeg, render  # noqa: E402
from raild.camera.sim import SimCamera  # noqa: E402
from raild.config import Config  # noqa: E402


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def line(name: str, values_ms: list[float]) -> str:
    return (
        f"{name}: n={len(values_ms)} p50={statistics.median(values_ms):.2f} ms "
        f"p99={pct(values_ms, 99):.2f} ms max={max(values_ms):.2f} ms"
    )


def bench_render(frames: int) -> list[str]:
    out = []
    for width, height in ((480, 320), (1024, 683)):
        subject = Subject(width, height, 2000.0, 1)
        optics = Optics(2.0, 4.0)
        times = []
        for i in range(frames):
            t = time.perf_counter()
            encode_jpeg(render(subject, optics, (i * 97) % 2000), 92, "bench")
            times.append((time.perf_counter() - t) * 1000)
        out.append(line(f"render+encode {width}x{height}", times))
    return out


async def bench_sim(frames: int, tmp: Path) -> list[str]:
    latency_ms, download_ms, move_ms = 150, 80, 120
    config = Config().with_overrides(
        sim={"capture_latency_ms": latency_ms, "download_ms": download_ms, "preview_ms": 30}
    )
    cam = SimCamera(config, position_um=lambda: 50_000.0)
    await cam.open()
    overhead, hidden = [], 0
    for i in range(frames):
        t = time.perf_counter()
        shot = await cam.capture(tmp / f"s{i}.jpg")
        overhead.append((time.perf_counter() - t) * 1000 - latency_ms)
        await asyncio.sleep(move_ms / 1000)  # the rail moves to the next position
        hidden += shot.download.done()
        await shot.download
    waits = []
    view = LiveView(cam, config.camera.liveview_max_fps)
    stream = view.stream()

    async def watch() -> None:
        async for _ in stream:
            pass

    watcher = asyncio.create_task(watch())
    await asyncio.sleep(0.3)
    for i in range(frames):
        t = time.perf_counter()
        await cam.capture(tmp / f"l{i}.jpg")
        waits.append((time.perf_counter() - t) * 1000 - latency_ms)
        await asyncio.sleep(0.05 + (i % 7) * 0.013)  # land at varied points of the preview cycle
    watcher.cancel()
    await asyncio.gather(watcher, return_exceptions=True)
    await cam.close()
    return [
        line(f"sim capture() overhead beyond capture_latency_ms={latency_ms}", overhead),
        f"sim downloads done before a {move_ms} ms move ended: {hidden}/{frames} (download_ms={download_ms})",
        line(f"sim capture() extra wait while live view runs at {config.camera.liveview_max_fps:g} fps", waits),
        f"live view previews during that run: {view.previews}",
    ]


VCAM_CHILD = r"""
import asyncio, statistics, sys, time
from pathlib import Path
import gphoto2 as gp
from raild.camera.gphoto2_camera import Gphoto2Camera
from raild.config import Config
frames, work = int(sys.argv[1]), Path(sys.argv[2])
raw_cap, raw_get = [], []
cam = gp.Camera(); cam.init()
for i in range(frames):
    t = time.perf_counter()
    p = cam.capture(gp.GP_CAPTURE_IMAGE)
    raw_cap.append((time.perf_counter() - t) * 1000)
    t = time.perf_counter()
    bytes(cam.file_get(p.folder, p.name, gp.GP_FILE_TYPE_NORMAL).get_data_and_size())
    cam.file_delete(p.folder, p.name)
    raw_get.append((time.perf_counter() - t) * 1000)
cam.exit()
async def main():
    c = Gphoto2Camera(Config().with_overrides(camera={"backend": "gphoto2"}))
    await c.open()
    conf, down = [], []
    for i in range(frames):
        t = time.perf_counter(); shot = await c.capture(work / f"g{i}.jpg"); t1 = time.perf_counter()
        await shot.download; t2 = time.perf_counter()
        conf.append((t1-t)*1000); down.append((t2-t1)*1000)
    await c.close()
    return conf, down
conf, down = asyncio.run(main())
q = lambda v: f"p50={statistics.median(v):.2f} ms max={max(v):.2f} ms"
print(f"virtual camera, bare python-gphoto2: capture {q(raw_cap)}; download+delete {q(raw_get)}")
print(f"virtual camera, Gphoto2Camera: capture() to confirmation {q(conf)}; then download written {q(down)}")
"""


def bench_vcam(frames: int, tmp: Path) -> list[str]:
    from PIL import Image

    vcam = tmp / "vcam"
    vcam.mkdir()
    for i in range(3):  # textured, so the files have a realistic size (larger ones exceed the virtual camera)
        small = render(Subject(1500, 1000, 2000.0, i), Optics(2.0, 4.0), 1000.0)
        big = Image.fromarray(small).resize((3000, 2000), Image.Resampling.BICUBIC)
        big.save(vcam / f"img{i}.jpg", quality=95)
    env = {**os.environ, "VCAMERADIR": str(vcam), "PYTHONPATH": str(ROOT)}
    # The virtual camera keeps every captured file in memory and runs out after ~25 MB.
    frames = min(frames, 10)
    proc = subprocess.run(
        [sys.executable, "-c", VCAM_CHILD, str(frames), str(tmp)], env=env, capture_output=True, text=True, timeout=600
    )
    if proc.returncode:
        return [f"virtual camera benchmark failed: {proc.stderr.strip().splitlines()[-1]}"]
    size_kb = (vcam / "img0.jpg").stat().st_size // 1024
    note = f"(virtual camera serving 3000x2000 JPEGs of about {size_kb} KiB)"
    return [note, *proc.stdout.strip().splitlines()]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--frames", type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        results = bench_render(args.frames)
        results += asyncio.run(bench_sim(args.frames, tmp))
        results += bench_vcam(args.frames, tmp)
    for result in results:
        print(result)


if __name__ == "__main__":
    main()
