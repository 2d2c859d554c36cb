"""A daemon whose camera is libgphoto2's virtual camera (a PTP Nikon D750 serving
JPEGs from `VCAMERADIR`) driven by raild's real gphoto2 backend, with libgphoto2 errors
injected by tests/faults/launch.py at the python-gphoto2 boundary."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image

from tests.faults.harness import Daemon, merged

LAUNCHER = str(Path(__file__).with_name("launch.py"))


@dataclass
class Faults:
    file: Path
    log_path: Path
    gen: int = 0

    def set(self, **plan: Any) -> None:
        """Replace the plan at once (write and rename, so the daemon never reads half)."""
        self.gen += 1
        tmp = self.file.with_suffix(".tmp")
        tmp.write_text(json.dumps({"gen": self.gen, **plan}))
        os.replace(tmp, self.file)

    def calls(self) -> list[dict[str, Any]]:
        if not self.log_path.exists():
            return []
        return [json.loads(line) for line in self.log_path.read_text().splitlines() if line.strip()]


def make_vcam_dir(folder: Path) -> Path:
    """Distinct JPEGs for the virtual camera, so each download can be recognised."""
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(3):
        Image.new("RGB", (64, 48), (60 * i, 100, 220 - 50 * i)).save(folder / f"img{i}.jpg", quality=90)
    return folder


@contextmanager
def vcam_daemon(tmp_path: Path, **camera: Any) -> Iterator[tuple[Daemon, Faults]]:
    faults = Faults(tmp_path / "faults.json", tmp_path / "faults.log")
    faults.set()
    env = {
        "VCAMERADIR": str(make_vcam_dir(tmp_path / "vcam")),
        "RAILD_FAULTS_FILE": str(faults.file),
        "RAILD_FAULTS_LOG": str(faults.log_path),
    }
    config = merged({"camera": {"backend": "gphoto2", "settle_ms": 10, "retries": 2, **camera}})
    daemon = Daemon(tmp_path / "daemon", config, launcher=[LAUNCHER], env=env)
    try:
        daemon.start()
        yield daemon, faults
    finally:
        daemon.stop()


def originals(daemon: Daemon) -> set[bytes]:
    return {p.read_bytes() for p in Path(daemon.env["VCAMERADIR"]).glob("*.jpg")}
