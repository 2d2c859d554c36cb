"""Focus-layer benchmarks (bounded; stops by itself).

    .venv/bin/python bench/focus.py [--frames 50] [--big-frames 20]

Frames are the simulated camera's subject (rendered at 1024 px; the "24 MP" frames
are those renders enlarged to 6000x4000 and JPEG-encoded, which gives the decoder
the real amount of work). Measures:

- per-frame analysis (decode at <= 1024 px, tile sharpness, fusion) at 1024 px and
  at 24 MP, to compare with a 150 ms move;
- a preview of N frames: fusing them all, and encoding the preview once;
- peak extra memory while analysing 24 MP frames, in a fresh process (VmHWM);
- the live sharpness meter on a 640 px live-view frame.

All figures are for simulated frames on this machine, not a Pi.
"""

from __future__ import annotations

import argparse
import io
import json
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from raild.camera.render import Optics, Subject, encode_jpeg, render  # noqa: E402
from raild.focus.fusion import Fusion  # noqa: E402
from raild.focus.measure import block_mean, decode_frame, laplacian_energy, tile_px_for  # noqa: E402
from raild.focus.meter import measure_preview  # noqa: E402

OPTICS = Optics(4.0, 4.0)


def frames_1024(n: int) -> list[tuple[float, bytes]]:
    subject = Subject(1024, 683, 2000.0, 1)
    positions = np.linspace(-300, 2300, n)
    return [(float(x), encode_jpeg(render(subject, OPTICS, x), 90, "simulated bench frame")) for x in positions]


def enlarge(jpeg: bytes, size: tuple[int, int] = (6000, 4000)) -> bytes:
    """A 24 MP JPEG of about a camera's size: the render enlarged, plus sensor-like noise so
    the file carries as much detail for the decoder as a real frame (~10 MB)."""
    im = Image.open(io.BytesIO(jpeg)).resize(size, Image.BICUBIC)
    pixels = np.asarray(im, dtype=np.int16)
    noise = np.random.default_rng(7).integers(-6, 7, size=pixels.shape, dtype=np.int16)
    im = Image.fromarray(np.clip(pixels + noise, 0, 255).astype(np.uint8), "RGB")
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=92)
    return buf.getvalue()


def analyse(frames: list[tuple[float, bytes]]) -> tuple[list[float], Fusion]:
    times, fusion = [], Fusion()
    for x, data in frames:
        start = time.perf_counter()
        image = decode_frame(data)  # what FocusService._analyse does per frame
        energy = laplacian_energy(image.gray)
        block_mean(energy, tile_px_for(energy.shape))
        fusion.add(image, x, energy)
        times.append((time.perf_counter() - start) * 1000)
    return times, fusion


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def memory_child(big_frames: int, path: Path) -> None:
    """Run in a fresh process: peak RSS growth while analysing `big_frames` 24 MP frames."""
    frame = path.read_bytes()

    def hwm_kb() -> int:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
        return 0

    base = hwm_kb()
    analyse([(float(i), frame) for i in range(big_frames)])
    print(json.dumps({"extra_mb": (hwm_kb() - base) / 1024}))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--frames", type=int, default=50)
    ap.add_argument("--big-frames", type=int, default=20)
    ap.add_argument("--memory-child", type=int, default=0)
    ap.add_argument("--memory-frame", type=Path)
    args = ap.parse_args()
    if args.memory_child:
        memory_child(args.memory_child, args.memory_frame)
        return
    small = frames_1024(args.frames)
    t_small, fusion = analyse(small)
    start = time.perf_counter()
    fusion.preview_jpeg()
    encode_ms = (time.perf_counter() - start) * 1000
    big = enlarge(small[len(small) // 2][1])
    t_big, _ = analyse([(float(i), big) for i in range(args.big_frames)])
    live = encode_jpeg(render(Subject(640, 427, 2000.0, 1), OPTICS, 1000.0), 75, "simulated live view")
    meter = []
    for _ in range(50):
        start = time.perf_counter()
        measure_preview(live)
        meter.append((time.perf_counter() - start) * 1000)
    with tempfile.TemporaryDirectory() as tmp:
        frame_file = Path(tmp) / "frame_24mp.jpg"
        frame_file.write_bytes(big)
        child = [sys.executable, __file__, "--memory-child", str(args.big_frames), "--memory-frame", str(frame_file)]
        mem = subprocess.run(child, capture_output=True, text=True, check=True)
    result = {
        "machine": f"{platform.machine()} {platform.python_version()}",
        "big_frame_bytes": len(big),
        "analysis_1024_ms": {"p50": pct(t_small, 50), "p99": pct(t_small, 99)},
        "analysis_24mp_ms": {"p50": pct(t_big, 50), "p99": pct(t_big, 99)},
        "preview_fuse_s": sum(t_small) / 1000,
        "preview_frames": args.frames,
        "preview_encode_ms": encode_ms,
        "peak_extra_mb_24mp": json.loads(mem.stdout)["extra_mb"],
        "meter_640_ms": {"p50": statistics.median(meter), "p99": pct(meter, 99)},
    }
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
