"""`raild serve` as users run it, in its own process on a free loopback port.

`DaemonProcess` writes a config into its work dir, starts `python -m raild serve` (with
`--sim` unless told otherwise) with a temporary state dir and a known API token, waits
until it answers (and, by default, until its rail and stack layers are up), hands out
an httpx client based at /api/v1, and stops it with SIGTERM (SIGKILL only if that does
not end it), keeping stdout and stderr in `daemon.log`. It restarts on the same state
dir and port, so a test can kill it and start it again. `SimRigProcess` is `raild
sim-rig` (the pigpiod emulator) on its own, so "pigpiod" can die under a daemon.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, ClassVar

import httpx

from raild.paths import TOKEN_FILE
from tests.support import rig
from tests.support.configs import QUICK_SIM, Sections, merged, toml_text
from tests.support.ports import free_port
from tests.support.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "support-test-token-0123456789abcdef"


def serve_argv(
    port: int,
    state_dir: Path,
    config: Path | None = None,
    sim: bool = True,
    launcher: list[str] | None = None,
    host: str = "127.0.0.1",
) -> list[str]:
    """The command line of `raild serve` (`launcher` replaces `-m raild`)."""
    argv = [sys.executable, *(launcher or ["-m", "raild"]), "serve"]
    if config is not None:
        argv += ["--config", str(config)]
    argv += ["--host", host, "--port", str(port), "--state-dir", str(state_dir)]
    if sim:
        argv.append("--sim")
    return argv


def daemon_env(token: str | None, extra: dict[str, str] | None = None) -> dict[str, str]:
    """This environment with the repository importable, the token set and no systemd
    notify socket inherited (`extra` may set one)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    if token is not None:
        env["RAILD_API_TOKEN"] = token
    env.pop("NOTIFY_SOCKET", None)
    env.update(extra or {})
    return env


@dataclass
class DaemonProcess:
    """One `raild serve` process; restartable on the same state dir and port.

    `config` is sections (written as TOML) or TOML text; `stdout_to_log=False` drops
    stdout and keeps only stderr in the log."""

    workdir: Path
    config: Sections | str = field(default_factory=lambda: merged(QUICK_SIM))
    sim: bool = True
    token: str | None = TOKEN  # None: the daemon makes its own token file, read after start
    launcher: list[str] | None = None  # replaces `-m raild` (fault-injecting launchers)
    env: dict[str, str] = field(default_factory=dict)
    state_dir: Path | None = None
    port: int = field(default_factory=free_port)
    stdout_to_log: bool = True
    start_timeout_s: float = 30
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

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.read_token()}"}

    def read_token(self) -> str:
        """The token the daemon answers to: the one it was given, else its token file."""
        if self.token is not None:
            return self.token
        assert self.state_dir is not None
        return (self.state_dir / TOKEN_FILE).read_text().strip()

    def start(self, wait_rail: bool = True) -> DaemonProcess:
        assert self.state_dir is not None
        text = self.config if isinstance(self.config, str) else toml_text(self.config)
        self.config_path.write_text(text)
        argv = serve_argv(self.port, self.state_dir, self.config_path, self.sim, self.launcher)
        with self.log_path.open("ab") as log:
            log.write(f"--- start {self.starts + 1}: {' '.join(argv)}\n".encode())
            log.flush()
            self.proc = subprocess.Popen(
                argv,
                cwd=ROOT,
                env=self._env(),
                stdout=log if self.stdout_to_log else subprocess.DEVNULL,
                stderr=log,
            )
        self.starts += 1
        self.client = httpx.Client(base_url=f"{self.base_url}/api/v1", timeout=15)
        try:
            wait_for(self.answers, self.start_timeout_s, "the daemon to answer", self.proc)
            self.client.headers.update(self.auth)  # /health is open; the rest needs the token
            if wait_rail:
                wait_for(self.rail_up, self.start_timeout_s, "the rail and stack layers to come up", self.proc)
        except AssertionError as failed:
            raise AssertionError(f"{failed}\n--- {self.log_path}:\n{self.log()[-4000:]}") from None
        return self

    def _env(self) -> dict[str, str]:
        env = daemon_env(self.token, self.env)
        if self.token is None and "RAILD_API_TOKEN" not in self.env:
            env.pop("RAILD_API_TOKEN", None)
        return env

    def __enter__(self) -> DaemonProcess:
        try:
            return self.start()
        except BaseException:
            self.stop()  # __exit__ is not called when __enter__ fails
            raise

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    def answers(self) -> bool:
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

    def home(self, timeout_s: float = 60, tries: int = 1) -> dict[str, Any]:
        return rig.home(self.api, tries=tries, timeout_s=timeout_s, proc=self.proc)

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
        """Send `sig` and wait for the exit; returns the exit code."""
        assert self.proc is not None
        self.proc.send_signal(sig)
        code = self.proc.wait(timeout_s)
        self._close_client()
        return code

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def _close_client(self) -> None:
        if self.client is not None:
            self.client.close()
            self.client = None

    def stop(self, timeout_s: float = 15) -> int | None:
        """SIGTERM, then SIGKILL if it has not exited in `timeout_s`. Returns the exit
        code of a process this call stopped (None when there was none running)."""
        self._close_client()
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return None
        proc.terminate()
        try:
            return proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            return None


@dataclass
class SimRigProcess:
    """`raild sim-rig`: the pigpiod emulator as its own process, with its JSON
    inspection channel. Killing and restarting it is pigpiod dying and coming back."""

    workdir: Path
    config: Sections = field(default_factory=lambda: merged(QUICK_SIM))
    port: int = field(default_factory=free_port)
    inspect_port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    command: ClassVar[str] = "sim-rig"

    def start(self) -> SimRigProcess:
        self.workdir.mkdir(parents=True, exist_ok=True)
        path = self.workdir / f"{self.command}.toml"
        path.write_text(toml_text(self.config))
        argv = [sys.executable, "-m", "raild", self.command, "--config", str(path), "--port", str(self.port)]
        argv += ["--inspect-port", str(self.inspect_port)]
        with (self.workdir / f"{self.command}.log").open("ab") as log:
            self.proc = subprocess.Popen(argv, cwd=ROOT, env=daemon_env(None), stdout=log, stderr=subprocess.STDOUT)
        wait_for(self._answers, 20, f"raild {self.command} to listen", None)
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def _answers(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise AssertionError(f"raild {self.command} exited ({self.proc.returncode})")
        try:
            self.inspect("status")
        except OSError:
            return False
        return True

    def inspect(self, cmd: str, **args: Any) -> dict[str, Any]:
        from raild.sim.inspect import ask

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


@dataclass
class SimGrblProcess(SimRigProcess):
    """`raild sim-grbl` on TCP: the grbl emulator as its own process. It opens its grbl
    port before the inspection channel, so an answered `status` means both listen."""

    command: ClassVar[str] = "sim-grbl"
