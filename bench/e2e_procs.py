"""Processes for the end-to-end benchmark: `raild serve` (with or without `--sim`),
`raild sim-rig`, readiness through a real NOTIFY_SOCKET, and /proc sampling."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.support import rig
from tests.support.configs import toml_text

# the emulators as their own processes, under the names the benchmarks use
from tests.support.daemon import SimGrblProcess as SimGrbl  # noqa: F401
from tests.support.daemon import SimRigProcess as SimRig  # noqa: F401
from tests.support.ports import free_port
from tests.support.waiting import wait_for

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "bench-token-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def idle_cpu_percent(pid: int, seconds: float) -> float:
    start_cpu, start = cpu_seconds(pid), time.monotonic()
    time.sleep(seconds)
    return 100 * (cpu_seconds(pid) - start_cpu) / (time.monotonic() - start)


@dataclass
class Proc:
    """A raild process on loopback, stopped with SIGTERM."""

    argv: list[str]
    workdir: Path
    env: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen[bytes] | None = None
    ready_s: float | None = None  # from spawn to READY=1 on NOTIFY_SOCKET

    def start(self, wait_ready_s: float = 30.0) -> Proc:
        notify_path = self.workdir / f"notify-{time.monotonic_ns()}.sock"
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(str(notify_path))
        sock.settimeout(wait_ready_s)
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "RAILD_API_TOKEN": TOKEN,
            "NOTIFY_SOCKET": str(notify_path),
            **self.env,
        }
        log = (self.workdir / "process.log").open("ab")
        t0 = time.monotonic()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "raild", *self.argv], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            while True:
                message = sock.recv(4096).decode()
                if "READY=1" in message.split("\n"):
                    self.ready_s = time.monotonic() - t0
                    break
        finally:
            sock.close()
            notify_path.unlink(missing_ok=True)
            log.close()
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def serve(
    workdir: Path, config: dict[str, dict[str, Any]], sim: bool, env: dict[str, str] | None = None
) -> tuple[Proc, httpx.Client]:
    """`raild serve` on a free loopback port; returns the process and an API client."""
    port = free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / "raild.toml"
    path.write_text(toml_text(config))
    argv = [
        "serve",
        "--config",
        str(path),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--state-dir",
        str(workdir / "state"),
    ] + (["--sim"] if sim else [])
    proc = Proc(argv, workdir, env or {}).start()
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}/api/v1", headers=AUTH, timeout=30)
    return proc, client


def wait(check: Any, timeout_s: float, what: str) -> Any:
    return wait_for(check, timeout_s, what, error=RuntimeError)


def home(client: httpx.Client) -> None:
    wait(lambda: client.get("/status").json()["state"] == "idle", 30, "the rail")
    rig.home(client)


def run_stack(client: httpx.Client, body: dict[str, Any], timeout_s: float = 300) -> dict[str, Any]:
    reply = client.post("/stacks", json=body)
    reply.raise_for_status()
    stack_id = reply.json()["id"]
    done = wait(
        lambda: (s := client.get(f"/stacks/{stack_id}").json())["state"] not in ("queued", "running") and s,
        timeout_s,
        "the stack",
    )
    if done["state"] != "completed":
        raise RuntimeError(f"stack ended {done['state']}: {done['error']}")
    return dict(done)


TEMP_DIRS: list[Path] = []


def tempdir(name: str) -> Path:
    """A fresh work dir, removed by `remove_tempdirs()` when the benchmark ends."""
    path = Path(tempfile.mkdtemp(prefix=f"raild-e2e-{name}-"))
    TEMP_DIRS.append(path)
    return path


def remove_tempdirs() -> None:
    import shutil

    while TEMP_DIRS:
        shutil.rmtree(TEMP_DIRS.pop(), ignore_errors=True)
