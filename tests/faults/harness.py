"""Run the real daemon as users do, and talk to it over loopback.

`Daemon` starts `python -m raild serve` (with `--sim`, or pointed at a separate
`raild sim-rig` process) on a free port with a temporary state dir, a known
`RAILD_API_TOKEN` and a short-settle config. `SimRigProcess` runs the virtual rig
on its own so a test can drop or kill "pigpiod" under a running daemon. Nothing
here fakes a layer: the processes are the ones a user starts.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx

from raild.sim.inspect import ask

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "faults-test-token-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
T = TypeVar("T")

# A rig that homes in a second or two (the carriage starts 2 mm above the min
# switch) with short camera times, so a 20-frame stack takes a few seconds.
BASE_CONFIG: dict[str, dict[str, Any]] = {
    "sim": {
        "start_position_um": 2000.0,
        "capture_latency_ms": 30,
        "download_ms": 40,
        "preview_ms": 5,
        "image_width": 96,
        "image_height": 64,
    },
    "camera": {"settle_ms": 20, "retries": 2},
    "homing": {"backoff_um": 200.0, "seek_speed_um_s": 3000.0, "approach_speed_um_s": 1000.0},
    "daemon": {"mdns": False, "log_level": "info"},
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def toml_text(sections: dict[str, dict[str, Any]]) -> str:
    """Enough TOML for our config: tables of scalars and lists of strings."""
    lines: list[str] = []
    for name, values in sections.items():
        lines.append(f"[{name}]")
        for key, value in values.items():
            lines.append(f"{key} = {json.dumps(value)}")
    return "\n".join(lines) + "\n"


def merged(*overrides: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    out = {name: dict(values) for name, values in BASE_CONFIG.items()}
    for extra in overrides:
        for name, values in extra.items():
            out.setdefault(name, {}).update(values)
    return out


def wait_for(
    check: Callable[[], T],
    timeout_s: float,
    what: str,
    proc: subprocess.Popen[bytes] | None = None,
    every_s: float = 0.02,
) -> T:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"the daemon exited ({proc.returncode}) while waiting for {what}")
        value = check()
        if value:
            return value
        time.sleep(every_s)
    raise AssertionError(f"timed out after {timeout_s:g} s waiting for {what}")


@dataclass
class Daemon:
    """One `raild serve` process; restartable on the same state dir and port."""

    workdir: Path
    config: dict[str, dict[str, Any]] = field(default_factory=merged)
    sim: bool = True
    launcher: list[str] | None = None  # replaces `-m raild` (fault-injecting launchers)
    env: dict[str, str] = field(default_factory=dict)
    state_dir: Path | None = None
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    client: httpx.Client | None = None
    starts: int = 0

    def __post_init__(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        if self.state_dir is None:
            self.state_dir = self.workdir / "state"
        self.config_path = self.workdir / "raild.toml"
        self.log_path = self.workdir / "daemon.log"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, wait_rail: bool = True) -> Daemon:
        self.config_path.write_text(toml_text(self.config))
        env = {**os.environ, "RAILD_API_TOKEN": TOKEN, "PYTHONPATH": str(ROOT), **self.env}
        env.pop("NOTIFY_SOCKET", None)
        argv = [
            sys.executable,
            *(self.launcher or ["-m", "raild"]),
            "serve",
            "--config",
            str(self.config_path),
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--state-dir",
            str(self.state_dir),
        ]
        if self.sim:
            argv.append("--sim")
        with self.log_path.open("ab") as log:
            log.write(f"--- start {self.starts + 1}: {' '.join(argv)}\n".encode())
            self.proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        self.starts += 1
        self.client = httpx.Client(base_url=f"{self.base_url}/api/v1", headers=AUTH, timeout=15)
        wait_for(self._answers, 30, "the daemon to answer", self.proc)
        if wait_rail:
            wait_for(self.rail_up, 30, "the rail and stack layers to come up", self.proc)
        return self

    def _answers(self) -> bool:
        try:
            return self.api.get("/health").status_code == 200
        except httpx.HTTPError:
            return False

    def rail_up(self) -> bool:
        status = self.status()
        # Before homing the position is unknown (null); "fault" means pigpiod is not reached.
        return status.get("state") != "fault" and "job" in status and self.api.get("/stacks").status_code == 200

    @property
    def api(self) -> httpx.Client:
        assert self.client is not None, "the daemon is not started"
        return self.client

    def status(self) -> dict[str, Any]:
        return dict(self.api.get("/status").json())

    def stack(self, stack_id: str) -> dict[str, Any]:
        return dict(self.api.get(f"/stacks/{stack_id}").json())

    def home(self, timeout_s: float = 60) -> dict[str, Any]:
        reply = self.api.post("/motion/home")
        assert reply.status_code == 202, reply.text

        # A homing that fails latches a fault: say why at once rather than wait out the deadline.
        def settled() -> dict[str, Any] | None:
            s = self.status()
            return s if s["state"] == "fault" or (s["homed"] and s["state"] == "idle") else None

        status = wait_for(settled, timeout_s, "homing", self.proc)
        assert status["state"] == "idle", f"homing failed: {status['fault']}"
        return status

    def create_stack(self, body: dict[str, Any]) -> str:
        reply = self.api.post("/stacks", json=body)
        assert reply.status_code == 201, reply.text
        return str(reply.json()["id"])

    def wait_stack(self, stack_id: str, *states: str, timeout_s: float = 60) -> dict[str, Any]:
        return wait_for(
            lambda: (s := self.stack(stack_id))["state"] in states and s,
            timeout_s,
            f"stack {stack_id} to reach {states}",
            self.proc,
        )

    def wait_frames(self, stack_id: str, count: int, timeout_s: float = 60) -> dict[str, Any]:
        return wait_for(
            lambda: (s := self.stack(stack_id))["frame"] >= count and s,
            timeout_s,
            f"{count} frames of {stack_id}",
            self.proc,
        )

    def stack_dir(self, stack_id: str) -> Path:
        assert self.state_dir is not None
        return self.state_dir / "stacks" / stack_id

    def manifest(self, stack_id: str) -> dict[str, Any]:
        return dict(json.loads((self.stack_dir(stack_id) / "manifest.json").read_text()))

    def signal(self, sig: signal.Signals, timeout_s: float = 15) -> int:
        assert self.proc is not None
        self.proc.send_signal(sig)
        code = self.proc.wait(timeout_s)
        self._close_client()
        return code

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def _close_client(self) -> None:
        if self.client is not None:
            self.client.close()
            self.client = None

    def stop(self) -> None:
        self._close_client()
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextmanager
def running_daemon(workdir: Path, *overrides: dict[str, dict[str, Any]], **kw: Any) -> Iterator[Daemon]:
    daemon = Daemon(workdir, config=merged(*overrides), **kw)
    try:
        daemon.start()
        yield daemon
    finally:
        daemon.stop()


@dataclass
class SimRigProcess:
    """`raild sim-rig`: the pigpiod emulator as its own process, with its JSON
    inspection channel. Killing and restarting it is pigpiod dying and coming back."""

    workdir: Path
    config: dict[str, dict[str, Any]] = field(default_factory=merged)
    port: int = field(default_factory=free_port)
    inspect_port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> SimRigProcess:
        self.workdir.mkdir(parents=True, exist_ok=True)
        path = self.workdir / "sim-rig.toml"
        path.write_text(toml_text(self.config))
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        with (self.workdir / "sim-rig.log").open("ab") as log:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "raild",
                    "sim-rig",
                    "--config",
                    str(path),
                    "--port",
                    str(self.port),
                    "--inspect-port",
                    str(self.inspect_port),
                ],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        wait_for(self._answers, 20, "the virtual rig to listen", None)
        return self

    def _answers(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise AssertionError(f"sim-rig exited ({self.proc.returncode})")
        try:
            self.inspect("status")
        except OSError:
            return False
        return True

    def inspect(self, cmd: str, **args: Any) -> dict[str, Any]:
        answer = ask("127.0.0.1", self.inspect_port, cmd, **args)
        assert answer.pop("ok"), answer
        return dict(answer)

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait(10)

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
