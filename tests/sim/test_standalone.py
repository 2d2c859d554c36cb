"""`raild sim-rig` as its own process, and its JSON inspection channel."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pigpio
import pytest

from raild.sim import SimRig
from raild.sim.inspect import InspectError, handle_request
from tests.sim.rail_helpers import intervals_at, prepare, run_steps
from tests.support.ports import free_port

REPO = Path(__file__).resolve().parents[2]


class Inspector:
    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.file = self.sock.makefile("rwb")

    def ask(self, **req: object) -> dict:
        self.file.write(json.dumps(req).encode() + b"\n")
        self.file.flush()
        return json.loads(self.file.readline())

    def raw(self, line: bytes) -> dict:
        self.file.write(line)
        self.file.flush()
        return json.loads(self.file.readline())

    def close(self) -> None:
        self.file.close()
        self.sock.close()


@pytest.fixture
def sim_process(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], int, int]]:
    port, inspect_port = free_port(), free_port()
    config = tmp_path / "raild.toml"
    config.write_text("[sim]\ntime_scale = 20.0\n")
    env = {k: v for k, v in os.environ.items() if k != "RAILD_CONFIG"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "raild",
            "sim-rig",
            "--config",
            str(config),
            "--port",
            str(port),
            "--inspect-port",
            str(inspect_port),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=REPO,
        env=env,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().decode()
        assert f"pigpiod on 127.0.0.1:{port}" in line, line + proc.stderr.read().decode() if proc.stderr else line
        yield proc, port, inspect_port
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_standalone_rig_serves_pigpio_and_inspection(sim_process) -> None:
    proc, port, inspect_port = sim_process
    pi = pigpio.pi("127.0.0.1", port)
    insp = Inspector(inspect_port)
    try:
        assert pi.connected and pi.get_hardware_revision() == 0xC03112
        assert insp.ask(cmd="position")["true_position_um"] == pytest.approx(50_000.0)
        prepare(pi)
        run_steps(pi, intervals_at(100.0, 32), +1)
        pos = insp.ask(cmd="position")
        assert pos["ok"] and pos["true_position_steps"] == 160_032
        assert insp.ask(cmd="set_position", um=0.6)["true_position_um"] == pytest.approx(0.625)  # nearest step
        run_steps(pi, intervals_at(100.0, 4), -1)
        assert insp.ask(cmd="switches") == {"ok": True, "min": True, "max": False}
        assert pi.read(5) == 1
        pi.write(23, 1)
        trig = insp.ask(cmd="triggers")
        assert trig["count"] == 1 and trig["triggers"][0]["kind"] == "shutter"
        assert insp.ask(cmd="capture", label="f1")["label"] == "f1"
        assert insp.ask(cmd="triggers", since=1)["triggers"][0]["kind"] == "capture"
        assert insp.ask(cmd="lost_steps") == {
            "ok": True,
            "lost_steps": 0,
            "lost_by_reason": {"disabled": 0, "stall": 0, "hard_stop": 0, "short_pulse": 0},
        }
        assert len(insp.ask(cmd="pulse_log", last=3)["pulse_log"]) == 3
        status = insp.ask(cmd="status")
        assert status["ok"] and status["port"] == port and status["time_scale"] == 20.0
        assert insp.ask(cmd="reset_counters") == {"ok": True}
        assert insp.ask(cmd="triggers")["count"] == 0
        assert insp.ask(cmd="violations")["violations"] == []
        # Bad input gets a clear answer and the channel stays usable.
        assert insp.raw(b"not json\n") == {"ok": False, "error": "not a JSON object on one line"}
        assert "unknown cmd" in insp.ask(cmd="fly")["error"]
        assert insp.ask(cmd="set_position", um="x")["ok"] is False
        assert insp.ask(cmd="position")["ok"] is True
        assert insp.ask(cmd="disconnect") == {"ok": True}
    finally:
        insp.close()
        pi.stop()
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(10) == 0


def test_port_in_use_is_a_clear_error() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "raild", "sim-rig", "--port", str(port)],
            capture_output=True,
            cwd=REPO,
            timeout=30,
            env={k: v for k, v in os.environ.items() if k != "RAILD_CONFIG"},
        )
    assert result.returncode == 69
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr.decode()


@pytest.mark.parametrize(
    ("req", "message"),
    [
        ([], 'a request is a JSON object with a "cmd" string'),
        ({"cmd": 3}, 'a request is a JSON object with a "cmd" string'),
        ({"cmd": "triggers", "since": -1}, "'since' must be a non-negative integer"),
        ({"cmd": "pulse_log", "last": "x"}, "'last' must be a non-negative integer"),
        ({"cmd": "set_position", "um": float("nan")}, "'um' must be a finite number"),
        ({"cmd": "capture", "label": 5}, "'label' must be a string"),
    ],
)
def test_inspection_rejects_bad_requests(rig: SimRig, req: object, message: str) -> None:
    before = rig.rail.true_position_steps
    with pytest.raises(InspectError, match=message.replace("(", r"\(")):
        handle_request(rig, req)
    assert rig.rail.true_position_steps == before


def test_same_port_twice_is_a_config_error() -> None:
    port = free_port()
    argv = [sys.executable, "-m", "raild", "sim-rig", "--port", str(port), "--inspect-port", str(port)]
    result = subprocess.run(
        argv,
        capture_output=True,
        cwd=REPO,
        timeout=30,
        env={k: v for k, v in os.environ.items() if k != "RAILD_CONFIG"},
    )
    assert result.returncode == 78
    assert "--inspect-port must differ from --port" in result.stderr.decode()
