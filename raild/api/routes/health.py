from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from raild.api.deps import DaemonDep

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str
    version: str


@router.get("/health", response_model=Health)
async def health(daemon: DaemonDep) -> Health:
    return Health(status="ok", version=daemon.version)
