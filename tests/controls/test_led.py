"""The status LED, read on the rig's pin: steady idle, slow blink moving or
stacking, fast blink on an e-stop or fault."""

from __future__ import annotations

import asyncio
import itertools
import statistics
import time

import pytest

from raild.controls import led_pattern
from raild.controls.led import FAST_S, SLOW_S
from raild.daemon import Daemon
from tests.controls.conftest import PANEL, Rig, until

LED = PANEL["led"]


def _toggle_intervals(rig: Rig, seconds: float) -> tuple[list[int], list[float]]:
    """Sample the LED pin for `seconds`: the levels seen and the times between changes."""
    levels: list[int] = []
    changes: list[float] = []
    end = time.monotonic() + seconds
    last = None
    while time.monotonic() < end:
        level = rig.level(LED)
        now = time.monotonic()
        if last is not None and level != last:
            changes.append(now)
        last = level
        levels.append(level)
        time.sleep(0.005)
    return levels, [b - a for a, b in itertools.pairwise(changes)]


async def test_led_steady_idle_slow_moving_fast_after_estop(daemon: Daemon, rig: Rig) -> None:
    rail = daemon.rail
    assert rail is not None
    await until(lambda: rig.level(LED) == 1, 2, "the LED to light")
    levels, _ = await asyncio.to_thread(_toggle_intervals, rig, 0.6)
    assert set(levels) == {1}, "idle: steady on"

    move = asyncio.create_task(rail.move_by_um(15_000.0))
    _, intervals = await asyncio.to_thread(_toggle_intervals, rig, 1.8)
    assert len(intervals) >= 2, intervals
    assert statistics.median(intervals) == pytest.approx(SLOW_S, abs=0.1), intervals
    assert min(intervals) > 2 * FAST_S, intervals  # never mistaken for the fast blink

    rig.press("estop")
    await asyncio.gather(move, return_exceptions=True)
    _, intervals = await asyncio.to_thread(_toggle_intervals, rig, 1.0)
    assert len(intervals) >= 5, intervals
    assert statistics.median(intervals) == pytest.approx(FAST_S, abs=0.04), intervals
    assert max(intervals) < SLOW_S / 2, intervals  # never mistaken for the slow blink

    rig.release("estop")
    await until(lambda: not daemon.controls.controls.estop_held, 2, "the release to be seen")
    await rail.reset()
    await until(lambda: rig.level(LED) == 1, 2, "the LED to light again")
    levels, _ = await asyncio.to_thread(_toggle_intervals, rig, 0.6)
    assert set(levels) == {1}, "idle again: steady on"


@pytest.mark.parametrize(
    ("state", "job", "pattern"),
    [
        ("idle", None, "steady"),
        ("idle", {"state": "completed"}, "steady"),
        ("idle", {"state": "paused"}, "steady"),
        ("idle", {"state": "running"}, "slow"),  # between two frames the rail rests
        ("moving", None, "slow"),
        ("homing", None, "slow"),
        ("estop", {"state": "running"}, "fast"),
        ("fault", None, "fast"),
    ],
)
def test_led_pattern_rule(state: str, job: dict | None, pattern: str) -> None:
    assert led_pattern({"state": state, "job": job}) == pattern
