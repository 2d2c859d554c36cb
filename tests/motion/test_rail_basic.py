"""The Rail against the virtual rig, through the real pigpio client."""

from __future__ import annotations

import pytest

from raild.motion.errors import NotHomed, OutOfLimits

from .motion_bench import Bench


async def test_home_then_move_is_exact(bench: Bench) -> None:
    rail = bench.rail
    with pytest.raises(NotHomed, match="must home first"):
        await rail.move_to_um(1000.0)
    await rail.home()
    assert rail.homed and rail.position_known
    bench.assert_in_sync()
    await rail.move_to_um(3_000.0)
    bench.assert_in_sync()
    assert rail.position_steps == rail.um_to_steps(3_000.0)
    await rail.move_to_um(1_234.5)
    bench.assert_in_sync()
    with pytest.raises(OutOfLimits):
        await rail.move_to_um(-50.0)
