"""Helpers for tests that need the virtual rig.

from raild.sim.testing import running_rig, pigpio_client

with running_rig(time_scale=50) as rig, pigpio_client(rig) as pi:
    ...  # pi is a real pigpio.pi connected to the emulator
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pigpio

from raild.config import Config
from raild.hw.connect import open_pi
from raild.sim.rig import SimRig


def rig_config(config: Config | None = None, **sim_overrides: Any) -> Config:
    """`config` (default: the embedded defaults) with some `[sim]` keys replaced."""
    cfg = config or Config()
    return cfg.with_overrides(sim=sim_overrides) if sim_overrides else cfg


@contextmanager
def running_rig(config: Config | None = None, **sim_overrides: Any) -> Iterator[SimRig]:
    """A started SimRig on a free localhost port, stopped afterwards."""
    rig = SimRig(rig_config(config, **sim_overrides))
    rig.start_blocking("127.0.0.1", 0)
    try:
        yield rig
    finally:
        rig.stop_blocking()


@contextmanager
def pigpio_client(rig: SimRig) -> Iterator[pigpio.pi]:
    """A real `pigpio.pi` connected to the rig, stopped afterwards."""
    pi = open_pi(rig.host, rig.port)
    try:
        yield pi
    finally:
        pi.stop()
