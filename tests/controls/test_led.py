"""The status LED, read on the rig's pin: steady idle, slow blink moving or
stacking, fast blink on an e-stop or fault."""

from __future__ import annotations

import asyncio
import itertools
import statistics

import pigpio
import pytest

from raild.controls import led_pattern
from raild.controls.led import FAST_S, SLOW_S
from raild.daemon import Daemon
from tests.controls.conftest import PANEL, Rig, until

LED = PANEL["led"]


class _Edges:
    """Every change of the LED pin as the emulator makes it, timed by its own clock (the
    tick pigpio's notifications carry): a sampler polling the pin from a busy host would
    time each change late and miss some, merging two blinks into one long one."""

    def __init__(self, rig: Rig) -> None:
        self.ticks: list[int] = []
        self.pi = pigpio.pi("127.0.0.1", rig.port)
        assert self.pi.connected
        self.cb = self.pi.callback(LED, pigpio.EITHER_EDGE, self._edge)

    def _edge(self, gpio: int, level: int, tick: int) -> None:
        if level in (0, 1):  # 2 would be a watchdog report, not an edge
            self.ticks.append(tick)

    async def intervals(self, count: int, timeout_s: float) -> list[float]:
        """Seconds between the edges from now on, once `count` intervals are seen. The
        first is left out: it may straddle the change of pattern."""
        mark = len(self.ticks)
        await until(lambda: len(self.ticks) - mark >= count + 2, timeout_s, f"{count + 2} LED edges")
        ticks = self.ticks[mark + 1 : mark + count + 2]
        return [((b - a) % 2**32) / 1e6 for a, b in itertools.pairwise(ticks)]

    async def steady(self, seconds: float) -> bool:
        """No edge for `seconds` (a window, so this one waits on the clock)."""
        mark = len(self.ticks)
        await asyncio.sleep(seconds)
        return len(self.ticks) == mark

    def close(self) -> None:
        self.cb.cancel()
        self.pi.stop()


async def test_led_steady_idle_slow_moving_fast_after_estop(daemon: Daemon, rig: Rig) -> None:
    rail = daemon.rail
    assert rail is not None
    edges = _Edges(rig)
    try:
        await until(lambda: rig.level(LED) == 1, 2, "the LED to light")
        assert await edges.steady(0.6) and rig.level(LED) == 1, "idle: steady on"

        move = asyncio.create_task(rail.move_by_um(15_000.0))
        intervals = await edges.intervals(3, 10)
        assert statistics.median(intervals) == pytest.approx(SLOW_S, abs=0.1), intervals
        assert min(intervals) > 2 * FAST_S, intervals  # never mistaken for the fast blink

        rig.press("estop")
        await asyncio.gather(move, return_exceptions=True)
        intervals = await edges.intervals(6, 10)
        assert statistics.median(intervals) == pytest.approx(FAST_S, abs=0.04), intervals
        assert max(intervals) < SLOW_S / 2, intervals  # never mistaken for the slow blink

        rig.release("estop")
        await until(lambda: not daemon.controls.controls.estop_held, 2, "the release to be seen")
        await rail.reset()
        await until(lambda: rig.level(LED) == 1, 2, "the LED to light again")
        assert await edges.steady(0.6) and rig.level(LED) == 1, "idle again: steady on"
    finally:
        edges.close()


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
