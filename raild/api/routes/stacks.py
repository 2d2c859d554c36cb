"""Focus stacks: plan and start, watch, pause/resume/cancel, download, delete."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Query, Response
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from raild.api.archive import zip_stream
from raild.api.deps import Authed, DaemonDep, StacksDep
from raild.api.files import media_type_for
from raild.api.problems import AUTHED, BODY, problem_responses
from raild.stacks.export import archive_contents, frame_file
from raild.stacks.request import body_schema

router = APIRouter(prefix="/stacks", tags=["stacks"], dependencies=[Authed])

StackId = Annotated[str, PathParam(description="the stack's id")]
# The body is checked once, by the stack layer (`raild.stacks.request`), which also
# writes its schema for the documentation.
_BODY_DOC = {"requestBody": {"required": True, "content": {"application/json": {"schema": body_schema()}}}}


JobState = Literal[
    "queued", "running", "pausing", "paused", "cancelling", "cancelled", "completed", "failed", "interrupted"
]


class Job(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str
    name: str | None = None
    state: JobState
    created_at: str = Field(description="ISO 8601, UTC")
    plan: dict[str, Any] | None = None
    frame: int
    frames: int
    eta_s: float | None = None
    positions_um: list[float] = []
    error: dict[str, Any] | None = Field(None, description='null or {"code", "message"}')
    parent_id: str | None = Field(None, description="the stack this one extends, or null")
    parent_end: Literal["near", "far"] | None = Field(None, description="the parent's end it continues")
    extends: dict[str, Any] | None = Field(None, description="null or {id, end}: the same link")
    children: list[str] = Field([], description="ids of the stacks that extend this one, oldest first")


class Frame(BaseModel):
    model_config = ConfigDict(extra="allow")
    index: int
    position_um: float | None = None
    name: str | None = None
    size: int | None = None
    confirmed: bool


_ONE = problem_responses(*AUTHED, 404, 503)
_CHANGE = problem_responses(*AUTHED, 403, 404, 409, 503)


# OpenAPI links: what a client (or a stateful fuzzer) can do with a new stack's id.
_LINKS = {
    name: {"operationId": op, "parameters": {"stack_id": "$response.body#/id"}}
    for name, op in (
        ("get", "get_stack"),
        ("frames", "frames"),
        ("archive", "archive"),
        ("pause", "pause"),
        ("resume", "resume"),
        ("cancel", "cancel"),
        ("delete", "delete"),
    )
}


@router.post(
    "",
    response_model=Job,
    status_code=201,
    responses={
        201: {"description": "the stack, started", "links": _LINKS},
        **problem_responses(*AUTHED, *BODY, 403, 409, 503, 507),
    },
    openapi_extra=_BODY_DOC,
)
async def create(body: Annotated[dict[str, Any], Body()], daemon: DaemonDep) -> dict[str, Any]:
    """Plan and start a stack; the rail must be idle and homed (or zeroed)."""
    return daemon.create_stack(body).status()


@router.get("", response_model=list[Job], responses=problem_responses(*AUTHED, 503))
async def list_stacks(stacks: StacksDep) -> list[dict[str, Any]]:
    """Newest first."""
    return [s.status() for s in stacks.list()]


@router.get("/{stack_id}", response_model=Job, responses=_ONE)
async def get_stack(stack_id: StackId, stacks: StacksDep) -> dict[str, Any]:
    return stacks.get(stack_id).status()


@router.post("/{stack_id}/pause", response_model=Job, responses=_CHANGE)
async def pause(stack_id: StackId, stacks: StacksDep) -> dict[str, Any]:
    return stacks.pause(stack_id).status()


@router.post("/{stack_id}/resume", response_model=Job, responses=_CHANGE)
async def resume(stack_id: StackId, stacks: StacksDep) -> dict[str, Any]:
    return stacks.resume(stack_id).status()


@router.post("/{stack_id}/cancel", response_model=Job, responses=_CHANGE)
async def cancel(stack_id: StackId, stacks: StacksDep) -> dict[str, Any]:
    return stacks.cancel(stack_id).status()


@router.delete("/{stack_id}", status_code=204, response_class=Response, responses=_CHANGE)
async def delete(stack_id: StackId, stacks: StacksDep) -> Response:
    stacks.delete(stack_id)
    return Response(status_code=204)


@router.get("/{stack_id}/frames", response_model=list[Frame], responses=_ONE)
async def frames(
    stack_id: StackId,
    stacks: StacksDep,
    children: Annotated[bool, Query(description="the extensions' frames too, as one sequence")] = False,
) -> list[dict[str, Any]]:
    return stacks.family_frames(stack_id) if children else stacks.frames(stack_id)


@router.get(
    "/{stack_id}/frames/{index}",
    response_class=FileResponse,
    responses={
        200: {
            "content": {"image/jpeg": {}, "application/octet-stream": {}},
            "description": "the frame as the camera wrote it",
        },
        **_ONE,
    },
)
async def frame(
    stack_id: StackId, index: Annotated[int, PathParam(ge=1, le=1_000_000, description="1-based")], stacks: StacksDep
) -> FileResponse:
    path = frame_file(stacks, stack_id, index)
    return FileResponse(path, media_type=media_type_for(path))


@router.get(
    "/{stack_id}/archive",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"application/zip": {}}, "description": "frames, manifest.json and positions.csv, streamed"},
        **_ONE,
    },
)
async def archive(
    stack_id: StackId,
    stacks: StacksDep,
    children: Annotated[bool, Query(description="include the extensions, numbered as one sequence")] = False,
) -> StreamingResponse:
    contents = await archive_contents(stacks, stack_id, children=children)
    return StreamingResponse(
        zip_stream(contents.entries),
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{contents.stem}.zip"'},
    )
