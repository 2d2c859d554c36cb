"""The daemon publishes the rail and its stack manager together: a client that sees the
rail up (`/status` state `idle`) never gets 503 from `/stacks` while the manager loads.
This is the window a pigpiod reconnect opened under load (tests/faults/test_pigpiod.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from raild.config import validate_data
from raild.daemon import Daemon
from raild.stacks import StackManager
from tests.faults.harness import TOKEN, merged


async def test_rail_is_not_published_before_its_stack_manager(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    daemon = Daemon(validate_data(merged(), "test"), tmp_path, TOKEN, sim=True)
    seen_while_loading: list[bool] = []
    original_start = StackManager.start

    async def observed_start(self: StackManager) -> None:
        await original_start(self)
        # Still inside the manager's start-up: nobody may see the rail up yet.
        seen_while_loading.append(daemon.rail is not None or daemon.status()["state"] != "fault")

    monkeypatch.setattr(StackManager, "start", observed_start)
    await daemon.start()
    try:
        assert seen_while_loading == [False]
        assert daemon.rail is not None and daemon.stacks is not None
        assert daemon.status()["state"] == "idle"
    finally:
        await daemon.stop()
