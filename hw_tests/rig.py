"""Which rig the hardware tests drive: a real pigpiod on a Pi, or `raild sim-rig`.

On the Pi the tests target pigpiod at PIGPIO_ADDR:PIGPIO_PORT (pigpio's own
variables; default 127.0.0.1:8888) with the wiring from the config (RAILD_CONFIG,
else /etc/raild/raild.toml, else the built-in defaults). When no pigpiod answers
there, they start `python -m raild sim-rig` on free ports and read the virtual
carriage over its JSON inspection channel, so they also run in CI.
"""

from __future__ import annotations

import contextlib
import os
import socket
import struct
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from raild.config import Config, find_config_path, load_config
from raild.hw.pigpio_facts import CMD_HWVER
from raild.sim.inspect import ask
from tests.support.configs import write_config
from tests.support.ports import free_port_pair

FEEDBACK_ENV = "RAILD_HW_FEEDBACK_PIN"


@dataclass
class Inspector:
    """Client of `raild sim-rig`'s inspection channel (one JSON object per line)."""

    host: str
    port: int

    def ask(self, cmd: str, **args: Any) -> dict[str, Any]:
        answer = ask(self.host, self.port, cmd, **args)
        if not answer.get("ok"):
            raise RuntimeError(f"sim-rig inspection {cmd}: {answer.get('error')}")
        return answer


@dataclass
class Target:
    host: str
    port: int
    config: Config
    config_path: str | None
    simulated: bool
    inspector: Inspector | None = None
    process: subprocess.Popen[str] | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return "SIMULATED (raild sim-rig)" if self.simulated else f"hardware (pigpiod at {self.host}:{self.port})"

    def feedback_pin(self) -> int | None:
        """Input pin wired to STEP on the Pi; the emulator reports STEP's own edges."""
        text = os.environ.get(FEEDBACK_ENV)
        if text:
            return int(text)
        return self.config.pins.step if self.simulated else None


def _answers_like_pigpiod(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1.0) as sock:
            sock.settimeout(2.0)
            sock.sendall(struct.pack("<IIII", CMD_HWVER, 0, 0, 0))
            answer = sock.recv(16)
    except OSError:
        return False
    return len(answer) == 16 and struct.unpack("<IIIi", answer)[0] == CMD_HWVER


def _is_sim_rig(host: str, port: int) -> Inspector | None:
    inspector = Inspector(host, port + 1)
    try:
        inspector.ask("status")
    except (OSError, ValueError, RuntimeError):
        return None
    return inspector


def sim_config(config: Config) -> Config:
    """The user's wiring, with a virtual carriage that starts near the home switch.

    Only the [sim] section and homing speeds change, so the moves under test keep
    the configured rail; homing then takes about a second instead of half a minute.
    """
    return config.with_overrides(
        sim={"start_position_um": 3_000.0, "time_scale": 1.0},
        homing={"backoff_um": 300.0, "approach_speed_um_s": min(1_000.0, config.homing.seek_speed_um_s / 2)},
    )


def start_sim_rig(config: Config, workdir: Path) -> Target:
    port = free_port_pair()
    path = write_config(config, workdir / "sim-rig.toml")
    proc = subprocess.Popen(
        [sys.executable, "-m", "raild", "sim-rig", "--config", str(path), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            out = proc.stdout.read() if proc.stdout else ""
            raise RuntimeError(f"raild sim-rig exited with {proc.returncode}: {out}")
        if _answers_like_pigpiod("127.0.0.1", port) and _is_sim_rig("127.0.0.1", port):
            return Target(
                "127.0.0.1",
                port,
                config,
                str(path),
                simulated=True,
                inspector=Inspector("127.0.0.1", port + 1),
                process=proc,
            )
        time.sleep(0.1)
    stop_sim_rig(proc)
    raise RuntimeError("raild sim-rig did not start within 20 s")


def stop_sim_rig(proc: subprocess.Popen[str]) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    if proc.stdout:
        with contextlib.suppress(OSError):
            proc.stdout.close()


def raild_service_active() -> bool:
    try:
        proc = subprocess.run(["systemctl", "is-active", "--quiet", "raild.service"], timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return proc.returncode == 0


def find_target(workdir: Path) -> Target:
    config_path = find_config_path(None)
    config = load_config(config_path)
    host = os.environ.get("PIGPIO_ADDR", "127.0.0.1")
    port = int(os.environ.get("PIGPIO_PORT", "8888"))
    explicit = "PIGPIO_ADDR" in os.environ or "PIGPIO_PORT" in os.environ
    why = f"no pigpiod at {host}:{port}"
    if _answers_like_pigpiod(host, port):
        inspector = _is_sim_rig(host, port)
        if inspector is None or explicit:
            return Target(host, port, config, config_path, simulated=inspector is not None, inspector=inspector)
        # A virtual rig someone else started on the default port: do not share it.
        why = f"a virtual rig already runs on {host}:{port}"
    target = start_sim_rig(sim_config(config), workdir)
    target.notes.append(f"{why}; started raild sim-rig on port {target.port}")
    return target
