from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from raild.api.deps import Authed, DaemonDep

router = APIRouter(tags=["status"], dependencies=[Authed])


@router.get("/status")
async def status(daemon: DaemonDep) -> dict[str, Any]:
    return daemon.status()
