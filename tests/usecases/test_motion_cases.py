"""Move targets: absolute as given, relative from the rail's own position (which must be known)."""

from __future__ import annotations

from pathlib import Path
from typing import cast

import pytest

from raild.config import Config
from raild.daemon import Daemon
from raild.drives.protocol import Drive
from raild.events import EventBus
from raild.hw.errors import HardwareUnavailable
from raild.motion import PositionUnknown, Rail
from raild.usecases.motion import manual_rail, target_um


def _rail() -> Rail:
    return Rail(Config(), None, EventBus(), drive=cast(Drive, object()))  # arithmetic only; never started


def test_an_absolute_target_is_taken_as_given() -> None:
    assert target_um(_rail(), 1234.5, None) == 1234.5


def test_a_relative_move_needs_a_known_position() -> None:
    rail = _rail()
    assert not rail.position_known
    with pytest.raises(PositionUnknown) as err:
        target_um(rail, None, 10.0)
    assert err.value.status == 409 and err.value.code == "position_unknown"


def test_a_relative_target_counts_from_the_position_in_steps() -> None:
    rail = _rail()
    rail.position_steps, rail.position_known = rail.um_to_steps(2000.0) + 1, True
    assert target_um(rail, None, -500.0) == pytest.approx(rail.steps_to_um(rail.position_steps) - 500.0)


def test_no_rail_is_a_503_with_the_daemons_reason(tmp_path: Path) -> None:
    daemon = Daemon(Config(), tmp_path, "t" * 40, sim=True)
    with pytest.raises(HardwareUnavailable) as err:
        manual_rail(daemon)
    assert str(err.value) == daemon.hardware_problem()
