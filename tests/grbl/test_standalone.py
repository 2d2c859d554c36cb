"""`raild sim-grbl` as its own process: a pty a serial client opens, and the inspection channel."""

from __future__ import annotations

import re
import subprocess
import sys
import time

import serial

from raild.sim.inspect import ask


def _start(*args: str) -> tuple[subprocess.Popen[str], str, int]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "raild", "sim-grbl", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    m = re.match(r"raild sim-grbl: grbl on (\S+), inspection on 127\.0\.0\.1:(\d+)", line)
    assert m, (line, proc.stderr.read() if proc.poll() is not None and proc.stderr else "")
    return proc, m.group(1), int(m.group(2))


def _read_until(port: serial.SerialBase, marker: bytes, timeout_s: float = 5.0) -> bytes:
    data = b""
    deadline = time.monotonic() + timeout_s
    while marker not in data and time.monotonic() < deadline:
        data += port.read(256)
    return data


def test_pty_serves_grbl_and_inspection_reports_the_rail() -> None:
    proc, device, inspect_port = _start("--pty")
    try:
        assert device.startswith("/dev/")
        with serial.serial_for_url(device, 115200, timeout=0.1) as port:
            port.write(b"\x18")
            assert b"Grbl 1.1h ['$' for help]" in _read_until(port, b"unlock]")
            port.write(b"$I\n")
            assert b"[OPT:V,15,128]" in _read_until(port, b"ok")
        answer = ask("127.0.0.1", inspect_port, "position")
        assert answer["ok"] and answer["true_position_um"] == 50_000.0
        status = ask("127.0.0.1", inspect_port, "status")
        assert status["grbl"]["state"] == "Alarm" and status["pty"] == device
    finally:
        proc.terminate()
        assert proc.wait(10) == 0


def test_pty_and_port_together_are_refused() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "raild", "sim-grbl", "--pty", "--port", "2000"], capture_output=True, text=True
    )
    assert result.returncode == 78 and "not allowed with" in result.stderr
