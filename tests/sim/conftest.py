"""Fixtures: a running virtual rig and real pigpio clients connected to it."""

from __future__ import annotations

import socket
import struct
import time
from collections.abc import Callable, Iterator

import pigpio
import pytest

from raild.sim import SimRig
from raild.sim.testing import pigpio_client, running_rig


@pytest.fixture
def rig() -> Iterator[SimRig]:
    with running_rig() as r:
        yield r


@pytest.fixture
def pi(rig: SimRig) -> Iterator[pigpio.pi]:
    with pigpio_client(rig) as client:
        yield client


def raw_command(sock: socket.socket, cmd: int, p1: int = 0, p2: int = 0, ext: bytes = b"") -> int:
    """One request as pigpio.py sends it; the answer must come back as a single 16-byte recv."""
    sock.sendall(struct.pack("<IIII", cmd, p1, p2, len(ext)) + ext)
    data = sock.recv(16)
    assert len(data) == 16
    return struct.unpack("<IIIi", data)[3]


def wait_until(predicate: Callable[[], bool], timeout_s: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.002)
    return predicate()


def wait_idle(pi: pigpio.pi, timeout_s: float = 10.0) -> None:
    assert wait_until(lambda: pi.wave_tx_busy() == 0, timeout_s), "wave still busy"
