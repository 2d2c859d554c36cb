"""Focus intelligence: stack coverage, fused preview and depth map, focus scan, live sharpness.

Each route calls one use case of `raild.usecases.focus`; the focus layer's errors
become problems in `raild/api/errors.py`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Response
from fastapi import Path as PathParam
from pydantic import BaseModel, ConfigDict, Field

from raild.api.deps import Authed, CameraDep, DaemonDep, FocusDep, StacksDep
from raild.api.models import AS_WHOLE, WholeNumber
from raild.api.problems import AUTHED, BODY, problem_responses
from raild.focus.scan import DEFAULT_SAMPLES, MAX_SAMPLES, MIN_SAMPLES
from raild.motion.units import MAX_ABS_UM
from raild.stacks.request import MAX_FRAMES
from raild.usecases import focus as use

router = APIRouter(tags=["focus"], dependencies=[Authed])
StackId = Annotated[str, PathParam(description="the stack's id")]


class Gap(BaseModel):
    from_um: float
    to_um: float


class CoverageDoc(BaseModel):
    model_config = ConfigDict(extra="allow")
    state: str = Field(description="pending | partial | final")
    frames_analyzed: int
    complete: bool
    near_end: str = Field(description="covered | cut")
    far_end: str = Field(description="covered | cut")
    gaps: list[Gap]
    suggest: dict[str, float] | None


@router.get("/stacks/{stack_id}/coverage", response_model=CoverageDoc, responses=problem_responses(*AUTHED, 404, 503))
async def coverage(stack_id: StackId, stacks: StacksDep, focus: FocusDep) -> dict[str, Any]:
    """Does the stack cover its subject? Computed from the frames' sharpness (API.md)."""
    return (await use.coverage(stacks, focus, stack_id)).to_dict()


_IMAGE = {"content": {"image/jpeg": {}}, "description": "all-in-focus fusion of the frames so far, <= 1024 px"}


@router.get(
    "/stacks/{stack_id}/preview",
    response_class=Response,
    responses={200: _IMAGE, **problem_responses(*AUTHED, 404, 409, 503)},
)
async def stack_preview(stack_id: StackId, stacks: StacksDep, focus: FocusDep) -> Response:
    data = await use.preview(stacks, focus, stack_id)
    return Response(data, media_type="image/jpeg", headers={"Cache-Control": "no-store"})


@router.get(
    "/stacks/{stack_id}/depthmap",
    response_class=Response,
    responses={
        200: {"content": {"image/png": {}}, "description": "which frame is sharpest where: near violet, far yellow"},
        **problem_responses(*AUTHED, 404, 409, 503),
    },
)
async def stack_depthmap(stack_id: StackId, stacks: StacksDep, focus: FocusDep) -> Response:
    data = await use.depthmap(stacks, focus, stack_id)
    return Response(data, media_type="image/png", headers={"Cache-Control": "no-store"})


class ScanRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    from_um: float = Field(ge=-MAX_ABS_UM, le=MAX_ABS_UM, allow_inf_nan=False)
    to_um: float = Field(ge=-MAX_ABS_UM, le=MAX_ABS_UM, allow_inf_nan=False)
    samples: WholeNumber = Field(DEFAULT_SAMPLES, ge=MIN_SAMPLES, le=MAX_SAMPLES, description="positions measured")


class ScanDoc(BaseModel):
    model_config = ConfigDict(extra="allow")
    state: str = Field(description="idle | running | done | failed")
    samples: list[dict[str, float]]
    suggest: dict[str, float] | None


@router.post(
    "/focus/scan",
    response_model=ScanDoc,
    status_code=202,
    responses=problem_responses(*AUTHED, *BODY, 403, 409, 503),
)
async def start_scan(body: ScanRequest, daemon: DaemonDep, camera: CameraDep, focus: FocusDep) -> dict[str, Any]:
    """Sweep from_um → to_um with live view; GET /focus/scan for the result."""
    return use.start_scan(daemon, camera, focus, body.from_um, body.to_um, body.samples)


@router.delete("/focus/scan", response_model=ScanDoc, responses=problem_responses(*AUTHED, 403, 503))
async def stop_scan(focus: FocusDep) -> dict[str, Any]:
    """End a running scan before its next move (POST motion/stop does this too)."""
    focus.scanner.cancel()
    return focus.scanner.status()


@router.get("/focus/scan", response_model=ScanDoc, responses=problem_responses(*AUTHED, 503))
async def get_scan(focus: FocusDep) -> dict[str, Any]:
    return focus.scanner.status()


@router.get("/camera/sharpness", responses=problem_responses(*AUTHED, 409, 503))
async def sharpness(camera: CameraDep, daemon: DaemonDep, focus: FocusDep) -> dict[str, Any]:
    """Sharpness of the newest live-view frame (shared with the live-view stream; cheap at 8 fps)."""
    return await use.sharpness(daemon, camera, focus)


class ExtendRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    end: Literal["near", "far"]
    frames: Annotated[int, Field(ge=1, le=MAX_FRAMES), AS_WHOLE] | None = Field(  # bounds: see AS_WHOLE
        None, description="default: enough to reach the coverage suggestion"
    )


@router.post(
    "/stacks/{stack_id}/extend",
    status_code=201,
    responses=problem_responses(*AUTHED, *BODY, 403, 404, 409, 503, 507),
)
async def extend(stack_id: StackId, body: ExtendRequest, stacks: StacksDep, focus: FocusDep) -> dict[str, Any]:
    """Start a follow-up stack continuing this one at its near or far end with the same step."""
    return (await use.extend(stacks, focus, stack_id, body.end, body.frames)).status()
