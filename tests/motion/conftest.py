"""Fixtures: the virtual rig (pigpiod emulator) with a Rail connected through the real pigpio client."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from .motion_bench import Bench, close_bench, make_config, open_bench


@pytest.fixture
async def bench() -> AsyncIterator[Bench]:
    b = await open_bench(make_config())
    try:
        yield b
    finally:
        await close_bench(b)
