"""Fixtures: `api` (app in-process over the simulated rig), `live_api` (real uvicorn)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from .helpers import Api, LiveApi, running_api, serving


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[Api]:
    async with running_api(tmp_path) as a:
        yield a


@pytest.fixture
async def live_api(api: Api) -> AsyncIterator[LiveApi]:
    async with serving(api) as live:
        yield live
