"""The grbl drive on a real board, or on `raild sim-grbl` when none is named.

Name a board with RAILD_GRBL_PORT (a device such as /dev/ttyACM0, or a pyserial
URL); the wiring and settings come from the config (RAILD_CONFIG, else
/etc/raild/raild.toml, else the defaults) and the board's `$` settings must match
it (`raild check --fix-grbl`). Without a board the tests start `python -m raild
sim-grbl --pty` with a time-scaled clock and also check the virtual carriage's
true position over the inspection channel (simulated), so they run in CI.
On a real board the carriage moves: keep the travel clear; homing needs the switch.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from hw_tests.conftest import report
from raild.config import Config, find_config_path, load_config
from raild.drives.grbl.drive import GrblDrive
from raild.drives.protocol import DriveFault
from raild.sim.inspect import ask

PORT_ENV = "RAILD_GRBL_PORT"
SIM_CONFIG = """
[sim]
time_scale = 2.0  # the emulator steps about 45 000 steps/s of host time; 3200 steps/mm × 3 mm/s × 2 fits, with room
start_position_um = 10000.0

[homing]
seek_speed_um_s = 3000.0
approach_speed_um_s = 1000.0
"""


@dataclass
class GrblTarget:
    config: Config
    port: str
    inspect_port: int | None  # set when simulated

    @property
    def simulated(self) -> bool:
        return self.inspect_port is not None

    def true_steps(self) -> int | None:
        if self.inspect_port is None:
            return None
        return int(ask("127.0.0.1", self.inspect_port, "position")["true_position_steps"])


@pytest.fixture(scope="module")
def grbl_target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GrblTarget]:
    named = os.environ.get(PORT_ENV)
    if named:
        config = load_config(find_config_path(None)).with_overrides(grbl={"port": named})
        report(f"grbl target: the board on {named}")
        yield GrblTarget(config, named, None)
        return
    path: Path = tmp_path_factory.mktemp("grbl") / "raild.toml"
    path.write_text(SIM_CONFIG)
    proc = subprocess.Popen(
        [sys.executable, "-m", "raild", "sim-grbl", "--pty", "--config", str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    m = re.match(r"raild sim-grbl: grbl on (\S+), inspection on 127\.0\.0\.1:(\d+)", proc.stdout.readline())
    if not m:
        proc.kill()
        pytest.skip("raild sim-grbl did not start")
    report(f"grbl target: raild sim-grbl on {m.group(1)} (simulated)")
    try:
        yield GrblTarget(load_config(path), m.group(1), int(m.group(2)))
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.fixture
async def drive(grbl_target: GrblTarget) -> AsyncIterator[GrblDrive]:
    d = GrblDrive(grbl_target.config, grbl_target.port)
    await d.start()
    try:
        yield d
    finally:
        await d.close()


async def _home(drive: GrblDrive) -> None:
    if not drive.settings.get(22):
        pytest.skip("homing is off on this board ($22=0)")
    res = await drive.home()
    assert res.reason is None and res.exact


async def test_homing_then_moves_count_every_step(grbl_target: GrblTarget, drive: GrblDrive) -> None:
    await _home(drive)
    spm = grbl_target.config.rail.steps_per_mm
    for delta in (round(2 * spm), -round(0.5 * spm) - 3):
        before = grbl_target.true_steps()
        res = await drive.move(delta, grbl_target.config.rail.max_speed_um_s / 1000 * spm, 0.0, 0.0, lambda s: None)
        assert res.reason is None and res.exact and res.steps == delta
        assert drive.position_steps is not None
        if before is not None:
            assert grbl_target.true_steps() == before + delta
    report(f"grbl moves: exact to the step ({'simulated' if grbl_target.simulated else 'by grbl report'})")


async def test_feed_hold_stop_distance_and_exactness(grbl_target: GrblTarget, drive: GrblDrive) -> None:
    await _home(drive)
    cfg = grbl_target.config
    spm = cfg.rail.steps_per_mm
    speed = cfg.rail.max_speed_um_s / 1000 * spm
    before = grbl_target.true_steps()
    seen: list[int] = []
    going = asyncio.Event()

    def progress(steps: int) -> None:
        seen.append(steps)
        if steps > 0.5 * spm:
            going.set()

    task = asyncio.create_task(drive.move(round(20 * spm), speed, 0.0, 0.0, progress))
    await asyncio.wait_for(going.wait(), 60)
    at_request = seen[-1]
    drive.request_stop()
    res = await task
    assert res.reason == "stop" and res.exact
    brake = speed * speed / (2 * cfg.rail.accel_um_s2 / 1000 * spm)
    overrun = res.steps - at_request
    report(f"grbl feed hold: {overrun} steps after the request (v²/2a = {brake:.0f}; polling lag adds to it)")
    assert overrun >= 0
    if before is not None:
        assert grbl_target.true_steps() == before + res.steps


async def test_alarm_after_estop_is_recovered_only_by_unlock(grbl_target: GrblTarget, drive: GrblDrive) -> None:
    await _home(drive)
    spm = grbl_target.config.rail.steps_per_mm
    going = asyncio.Event()
    task = asyncio.create_task(
        drive.move(round(10 * spm), 0.5 * grbl_target.config.rail.max_speed_um_s / 1000 * spm, 0.0, 0.0,
                   lambda s: s > 0.2 * spm and going.set())
    )  # fmt: skip
    await asyncio.wait_for(going.wait(), 60)
    drive.halt_now("estop")
    res = await task
    assert res.reason == "estop" and not drive.position_exact
    with pytest.raises(DriveFault):
        await drive.move(100, spm, 0.0, 0.0, lambda s: None)
    await drive.unlock()
    res = await drive.move(-round(0.1 * spm), spm, 0.0, 0.0, lambda s: None)
    assert res.reason is None
