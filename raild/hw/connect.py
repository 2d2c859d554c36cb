"""The one way raild opens pigpiod: where it is, how long to wait, and what to say when it is not there.

Two kinds of connection, both opened here:

- `open_pi`: a pigpio client (`pigpio.pi`), for everything that drives pins: the
  daemon's `Hardware`, `raild safe-stop`, the tests' rig client.
- `PigpiodProbe`: a bare command socket that only asks questions (`raild check`):
  a missing daemon costs one refused connection and no notification thread, and
  it cannot change a pin.

A pigpiod that cannot be reached is a `HardwareUnavailable` whose text says what
to check, the same text wherever it is met.
"""

from __future__ import annotations

import contextlib
import io
import socket
import struct

import pigpio

from raild.hw.errors import HardwareUnavailable


def where(host: str, port: int) -> str:
    return f"pigpiod at {host}:{port}"


def unreachable(host: str, port: int) -> HardwareUnavailable:
    return HardwareUnavailable(
        f"cannot connect to {where(host, port)}; is it running (sudo systemctl start pigpiod) "
        "and listening there ([pigpio] host/port)?"
    )


def too_slow(host: str, port: int, timeout_s: float) -> HardwareUnavailable:
    return HardwareUnavailable(f"{where(host, port)} did not answer within {timeout_s:g} s")


def open_pi(host: str, port: int) -> pigpio.pi:
    """A connected pigpio client (blocking); `HardwareUnavailable` when pigpiod is not there."""
    # pigpio prints a banner to stdout when it cannot connect; the exception says it instead.
    with contextlib.redirect_stdout(io.StringIO()):
        pi = pigpio.pi(host, port)
    if not pi.connected:
        raise unreachable(host, port)
    return pi


class PigpiodProbe:
    """A bare pigpiod command socket: 16-byte request, 16-byte answer. Raises OSError."""

    def __init__(self, host: str, port: int, timeout_s: float) -> None:
        self.sock = socket.create_connection((host, port), timeout=timeout_s)

    def command(self, cmd: int, p1: int = 0, p2: int = 0) -> int:
        self.sock.sendall(struct.pack("<IIII", cmd, p1, p2, 0))
        answer = b""
        while len(answer) < 16:
            chunk = self.sock.recv(16 - len(answer))
            if not chunk:
                raise ConnectionError("pigpiod closed the connection")
            answer += chunk
        return int(struct.unpack("<IIIi", answer)[3])

    def close(self) -> None:
        self.sock.close()
