"""`python tests/faults/launch.py serve ...`: the real `raild` command line, with faults
a test controls from outside the process through a JSON file.

Only what no real part can produce on demand is injected, and only at the lowest
boundary, so every raild layer above it runs unchanged:

* libgphoto2 errors (env `RAILD_FAULTS_FILE`): python-gphoto2's `Camera` class is
  replaced by a wrapper around the real virtual-camera handle (`VCAMERADIR`). It
  raises `GPhoto2Error` with the codes libgphoto2 gives for an unplugged (-52, -7)
  or busy (-110) camera, and while "unplugged" autodetection finds nothing, as on a
  real USB bus. Each call it makes is logged as a JSON line to `RAILD_FAULTS_LOG`.
* a wall-clock step (the file's `wall_offset_s`): `time.time()` of this process is
  shifted, as an NTP step or a user setting the date would shift it. The monotonic
  clock is left alone, exactly as the kernel leaves it.

The file is `{"gen": n, "unplugged": bool, "unplug_code": -52, "codes": {"capture":
[-110, 0, ...]}, "wall_offset_s": 0}`; `codes` are consumed one per call (0 = let the
real call through) and start afresh whenever `gen` changes.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

LOGGED = {"capture", "trigger_capture", "file_get", "init"}


class FaultPlan:
    def __init__(self, path: Path, log_path: Path | None) -> None:
        self.path = path
        self.log_path = log_path
        self._lock = threading.Lock()
        self._gen: int | None = None
        self._queues: dict[str, list[int]] = {}
        self.data: dict[str, Any] = {}
        self._mtime_ns = -1

    def refresh(self) -> dict[str, Any]:
        with self._lock:
            try:
                mtime_ns = self.path.stat().st_mtime_ns
            except FileNotFoundError:
                return self.data
            if mtime_ns != self._mtime_ns:
                self._mtime_ns = mtime_ns
                try:
                    data = json.loads(self.path.read_text())
                except (OSError, ValueError):  # caught mid-write: keep the last plan
                    return self.data
                self.data = data
                if data.get("gen") != self._gen:
                    self._gen = data.get("gen")
                    self._queues = {k: list(v) for k, v in (data.get("codes") or {}).items()}
            return self.data

    def next_code(self, call: str) -> int:
        plan = self.refresh()
        with self._lock:
            if plan.get("unplugged") and call != "exit":
                return int(plan.get("unplug_code", -52))
            queue = self._queues.get(call)
            return queue.pop(0) if queue else 0

    def log(self, call: str, code: int) -> None:
        if self.log_path is None:
            return
        line = json.dumps({"t": time.monotonic(), "call": call, "code": code, "gen": self._gen})
        with self._lock, self.log_path.open("a") as f:
            f.write(line + "\n")


def install_gphoto2_faults(plan: FaultPlan) -> None:
    import gphoto2 as gp

    real_camera = gp.Camera

    class FaultyCamera:
        """The real virtual-camera handle; chosen calls fail as a real body would."""

        @staticmethod
        def autodetect() -> Any:
            if plan.refresh().get("unplugged"):
                plan.log("autodetect", -52)
                return gp.CameraList()  # nothing on the bus
            return real_camera.autodetect()

        def __init__(self) -> None:
            self._real = real_camera()

        def __getattr__(self, name: str) -> Any:
            method = getattr(self._real, name)
            if not callable(method):
                return method

            def call(*args: Any) -> Any:
                code = plan.next_code(name)
                if name in LOGGED or code:
                    plan.log(name, code)
                if code:
                    raise gp.GPhoto2Error(code)
                return method(*args)

            return call

    gp.Camera = FaultyCamera


def install_wall_clock(plan: FaultPlan) -> None:
    real_time = time.time

    def shifted() -> float:
        return real_time() + float(plan.refresh().get("wall_offset_s", 0.0))

    time.time = shifted


def main() -> int:
    faults = os.environ.get("RAILD_FAULTS_FILE")
    if faults:
        log = os.environ.get("RAILD_FAULTS_LOG")
        plan = FaultPlan(Path(faults), Path(log) if log else None)
        if os.environ.get("VCAMERADIR"):
            install_gphoto2_faults(plan)
        install_wall_clock(plan)
    from raild.cli import main as raild_main

    return raild_main(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
