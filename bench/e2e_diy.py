"""The do-it-yourself way to shoot a stack, timed on the same virtual camera raild uses:
one `gphoto2 --capture-image-and-download` process per frame (Debian's gphoto2 CLI), and
one Python process per frame using python-gphoto2. Both load libgphoto2's virtual camera
(`vusb`, serving JPEGs from VCAMERADIR) shipped in the python-gphoto2 wheel."""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from PIL import Image

PER_PROCESS_SCRIPT = """
import sys
import gphoto2 as gp
cam = gp.Camera()
cam.init()
path = cam.capture(gp.GP_CAPTURE_IMAGE)
data = cam.file_get(path.folder, path.name, gp.GP_FILE_TYPE_NORMAL)
data.save(sys.argv[1])
cam.file_delete(path.folder, path.name)
cam.exit()
"""


def wheel_libgphoto2() -> Path:
    import gphoto2

    return Path(gphoto2.__file__).parent / "libgphoto2"


def make_vcam_dir(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(3):
        Image.new("RGB", (640, 480), (60 * i, 100, 200 - 40 * i)).save(folder / f"img{i}.jpg", quality=90)
    return folder


def cli_per_frame_ms(vcam: Path, out: Path, frames: int) -> list[float] | str:
    """Wall time of one CLI process per frame, or why it cannot be measured."""
    cli = shutil.which("gphoto2")
    if cli is None:
        return "the gphoto2 CLI is not installed (apt-get install gphoto2)"
    lib = wheel_libgphoto2()
    env = {**os.environ, "VCAMERADIR": str(vcam), "IOLIBS": str(lib / "vusb"), "CAMLIBS": str(lib / "camlibs")}
    out.mkdir(parents=True, exist_ok=True)
    times = []
    for i in range(frames):
        t0 = time.perf_counter()
        done = subprocess.run(
            [cli, "--capture-image-and-download", "--force-overwrite", "--filename", str(out / f"cli_{i:03d}.jpg")],
            env=env,
            capture_output=True,
        )
        times.append((time.perf_counter() - t0) * 1000)
        if done.returncode != 0 or not (out / f"cli_{i:03d}.jpg").exists():
            return f"the gphoto2 CLI failed on the virtual camera: {done.stderr.decode()[-200:]}"
    return times


def python_per_frame_ms(vcam: Path, out: Path, frames: int) -> list[float]:
    env = {**os.environ, "VCAMERADIR": str(vcam)}
    env.pop("IOLIBS", None)
    env.pop("CAMLIBS", None)
    out.mkdir(parents=True, exist_ok=True)
    times = []
    for i in range(frames):
        dest = out / f"py_{i:03d}.jpg"
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", PER_PROCESS_SCRIPT, str(dest)], env=env, check=True, capture_output=True)
        times.append((time.perf_counter() - t0) * 1000)
        assert dest.stat().st_size > 0
    return times


def cli_version() -> str:
    cli = shutil.which("gphoto2")
    if cli is None:
        return "not installed"
    first = subprocess.run([cli, "--version"], capture_output=True, text=True).stdout.splitlines()
    return first[0] if first else "unknown"


def median(values: list[float]) -> float:
    return statistics.median(values)
