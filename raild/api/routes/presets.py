"""Presets: named stack setups, kept by the stack layer (`raild.stacks.presets`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Response
from fastapi import Path as PathParam
from pydantic import BaseModel, ConfigDict

from raild.api.deps import Authed, StacksDep
from raild.api.problems import AUTHED, BODY, problem_responses
from raild.stacks.presets import MAX_NAME_CHARS, preset_schema

router = APIRouter(prefix="/presets", tags=["presets"], dependencies=[Authed])
PresetName = Annotated[str, PathParam(description=f"1 to {MAX_NAME_CHARS} letters, digits, ' ', '.', '-', '_'")]
_BODY_DOC = {"requestBody": {"required": True, "content": {"application/json": {"schema": preset_schema()}}}}


class Preset(BaseModel):
    model_config = ConfigDict(extra="allow")
    name: str


@router.get("", response_model=list[Preset], responses=problem_responses(*AUTHED, 503))
async def list_presets(stacks: StacksDep) -> list[dict[str, Any]]:
    """Every preset, by name."""
    return stacks.presets.list()


@router.get("/{name}", response_model=Preset, responses=problem_responses(*AUTHED, 404, 503))
async def get_preset(name: PresetName, stacks: StacksDep) -> dict[str, Any]:
    return stacks.presets.get(name)


@router.put(
    "/{name}",
    response_model=Preset,
    responses=problem_responses(*AUTHED, *BODY, 403, 404, 503, 507),
    openapi_extra=_BODY_DOC,
)
async def put_preset(name: PresetName, body: Annotated[dict[str, Any], Body()], stacks: StacksDep) -> dict[str, Any]:
    """Create or replace: any stack-body fields except `start_um`/`end_um`."""
    return await stacks.presets.put(name, body)


@router.delete(
    "/{name}", status_code=204, response_class=Response, responses=problem_responses(*AUTHED, 403, 404, 503, 507)
)
async def delete_preset(name: PresetName, stacks: StacksDep) -> Response:
    await stacks.presets.delete(name)
    return Response(status_code=204)
