from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from raild.api.deps import Authed, DaemonDep
from raild.api.models import Status
from raild.api.problems import AUTHED, problem_responses

router = APIRouter(tags=["status"], dependencies=[Authed])


@router.get("/status", response_model=Status, responses=problem_responses(*AUTHED))
async def status(daemon: DaemonDep) -> dict[str, Any]:
    return daemon.status()
