"""Physical-control tests: `raild sim-rig` as its own process (pigpiod plus the
virtual rail, its buttons pressed through the inspection channel's `drive`), and
the daemon in this process pointed at it, so a test can block its event loop."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from raild.config import Config
from raild.daemon import Daemon
from raild.events import Event, Subscription
from raild.sim.buttons import quadrature
from tests.faults.harness import SimRigProcess, merged
from tests.support.waiting import wait_until

TOKEN = "controls-test-token-0123456789abcdef"
# BCM pins of the test panel (none of them is used by [pins]).
PANEL = {
    "estop": 17,
    "stop": 27,
    "start": 22,
    "jog_plus": 12,
    "jog_minus": 13,
    "encoder_a": 19,
    "encoder_b": 26,
    "led": 25,
    "jog_step_um": 12.5,  # 40 microsteps
}
# A rail without limit switches moves relative until zeroed, so tests can jog
# both ways from wherever the shared rig's carriage is; the motor stays on.
DAEMON_CONFIG: dict[str, dict[str, Any]] = {
    "pins": {"limit_min": 0, "limit_max": 0},
    "homing": {"switch": "none"},
    "rail": {"idle_disable_s": 0.0},
    "camera": {"settle_ms": 20, "retries": 0},
    "buttons": PANEL,
}


class Rig:
    """The sim-rig process and its inspection channel."""

    def __init__(self, process: SimRigProcess) -> None:
        self.process = process
        self.port = process.port

    def inspect(self, cmd: str, **args: Any) -> dict[str, Any]:
        return self.process.inspect(cmd, **args)

    def drive(self, gpio: int, level: int | None) -> dict[str, Any]:
        return self.inspect("drive", gpio=gpio, level=level)

    def press(self, name: str) -> None:
        self.drive(PANEL[name], 0)  # active_low: the switch closes to ground

    def release(self, name: str) -> None:
        self.drive(PANEL[name], None)  # open: the pin reads its pull-up

    def turn(self, direction: str, detents: int) -> None:
        """A real quadrature sequence, every contact change its own `drive`."""
        a, b = PANEL["encoder_a"], PANEL["encoder_b"]
        for _ in range(detents):
            for closed_a, closed_b in quadrature(direction):
                self.drive(a, 0 if closed_a else None)
                self.drive(b, 0 if closed_b else None)

    def true_um(self) -> float:
        return float(self.inspect("position")["true_position_um"])

    def level(self, gpio: int) -> int:
        return int(self.inspect("level", gpio=gpio)["level"])

    def release_all(self) -> None:
        for name in ("estop", "stop", "start", "jog_plus", "jog_minus", "encoder_a", "encoder_b"):
            self.drive(PANEL[name], None)


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    config = merged({"buttons": PANEL}, {"sim": {"start_position_um": 50_000.0}})
    process = SimRigProcess(tmp_path_factory.mktemp("rig"), config).start()
    try:
        yield Rig(process)
    finally:
        process.stop()


def daemon_config(rig: Rig, **sections: dict[str, Any]) -> Config:
    data = merged(DAEMON_CONFIG, {"pigpio": {"port": rig.port}}, sections)
    return Config.model_validate(data)


@pytest.fixture
async def daemon(rig: Rig, tmp_path: Path) -> AsyncIterator[Daemon]:
    rig.release_all()
    d = Daemon(daemon_config(rig), tmp_path / "state", TOKEN, sim=False)
    await d.start()
    try:
        assert d.rail is not None and d.controls is not None, d.hardware_problem()
        yield d
    finally:
        await d.stop()
        rig.release_all()


# Poll a check while letting the loop run; its truthy value, or fail saying what.
until = wait_until


async def next_event(sub: Subscription, kind: str, timeout_s: float = 3.0) -> Event:
    deadline = time.monotonic() + timeout_s
    while (left := deadline - time.monotonic()) > 0:
        event = await sub.get(timeout_s=left)
        if event is not None and event.kind == kind:
            return event
    raise AssertionError(f"no {kind} event within {timeout_s} s")
