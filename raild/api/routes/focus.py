"""Focus intelligence: stack coverage, fused preview and depth map, focus scan, live sharpness.

Routes translate HTTP only: what a stack holds comes from the stack layer, what it
means from `raild.focus`.
"""

from __future__ import annotations

import time
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Response
from fastapi import Path as PathParam
from pydantic import BaseModel, ConfigDict, Field

from raild.api.deps import Authed, CameraDep, DaemonDep, StacksDep
from raild.api.models import AS_WHOLE, WholeNumber
from raild.api.problems import AUTHED, BODY, ProblemError, problem_responses
from raild.camera.liveview import liveview_for
from raild.focus.extend import ExtendRefused, extension_body, frames_to_reach
from raild.focus.scan import DEFAULT_SAMPLES, MAX_SAMPLES, NO_LIVE_VIEW, ScanRefused
from raild.focus.service import FocusService, LandedFrame, NotEnoughFrames, StackFrames
from raild.stacks.manager import StackManager
from raild.stacks.model import ACTIVE_STATES

router = APIRouter(tags=["focus"], dependencies=[Authed])
StackId = Annotated[str, PathParam(description="the stack's id")]
_MAX_ABS_UM = 10_000_000.0
ENDED_STATES = frozenset({"completed", "cancelled", "failed"})


async def get_focus(daemon: DaemonDep) -> FocusService:
    focus = daemon.focus
    if focus is None:
        raise ProblemError(503, "focus analysis is not running", code="focus_unavailable")
    return focus


FocusDep = Annotated[FocusService, Depends(get_focus)]


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


def _view(stacks: StackManager, stack_id: str) -> StackFrames:
    stack = stacks.get(stack_id)
    folder = stacks.stack_dir(stack_id)
    frames = [
        LandedFrame(item["index"], float(item["position_um"]), folder / item["name"] if item.get("name") else None)
        for item in stacks.frames(stack_id)
    ]
    # Paused or interrupted stacks may still gain frames: their coverage stays partial.
    return StackFrames(stack_id, folder, stack.state not in ENDED_STATES, frames)


def _not_enough(exc: NotEnoughFrames) -> ProblemError:
    return ProblemError(409, exc.message, code=exc.code)


@router.get("/stacks/{stack_id}/coverage", response_model=CoverageDoc, responses=problem_responses(*AUTHED, 404, 503))
async def coverage(stack_id: StackId, stacks: StacksDep, focus: FocusDep) -> dict[str, Any]:
    """Does the stack cover its subject? Computed from the frames' sharpness (API.md)."""
    view = _view(stacks, stack_id)
    # A stack not shooting now waits briefly for frames the worker has not reached yet.
    return (await focus.coverage(view, wait_s=_catch_up_s(stacks, stack_id))).to_dict()


def _catch_up_s(stacks: StackManager, stack_id: str) -> float:
    return 0.0 if stacks.get(stack_id).state in ACTIVE_STATES else 10.0


_IMAGE = {"content": {"image/jpeg": {}}, "description": "all-in-focus fusion of the frames so far, <= 1024 px"}


@router.get(
    "/stacks/{stack_id}/preview",
    response_class=Response,
    responses={200: _IMAGE, **problem_responses(*AUTHED, 404, 409, 503)},
)
async def stack_preview(stack_id: StackId, stacks: StacksDep, focus: FocusDep) -> Response:
    try:
        data = await focus.preview(_view(stacks, stack_id))
    except NotEnoughFrames as exc:
        raise _not_enough(exc) from exc
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
    try:
        data = await focus.depthmap(_view(stacks, stack_id))
    except NotEnoughFrames as exc:
        raise _not_enough(exc) from exc
    return Response(data, media_type="image/png", headers={"Cache-Control": "no-store"})


class ScanRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    from_um: float = Field(ge=-_MAX_ABS_UM, le=_MAX_ABS_UM, allow_inf_nan=False)
    to_um: float = Field(ge=-_MAX_ABS_UM, le=_MAX_ABS_UM, allow_inf_nan=False)
    samples: WholeNumber = Field(DEFAULT_SAMPLES, ge=3, le=MAX_SAMPLES, description="positions measured")


class ScanDoc(BaseModel):
    model_config = ConfigDict(extra="allow")
    state: str = Field(description="idle | running | done | failed")
    samples: list[dict[str, float]]
    suggest: dict[str, float] | None


def _refused(exc: ScanRefused) -> ProblemError:
    return ProblemError(exc.status, exc.message, code=exc.code)


@router.post(
    "/focus/scan",
    response_model=ScanDoc,
    status_code=202,
    responses=problem_responses(*AUTHED, *BODY, 403, 409, 503),
)
async def start_scan(body: ScanRequest, daemon: DaemonDep, camera: CameraDep, focus: FocusDep) -> dict[str, Any]:
    """Sweep from_um → to_um with live view; GET /focus/scan for the result."""
    if not camera.capabilities.preview:
        raise ProblemError(503, NO_LIVE_VIEW.format(backend=camera.backend), code="no_live_view")
    rail = daemon.rail
    if rail is None:
        raise ProblemError(503, daemon.hardware_problem(), code="hardware_unavailable")
    running = daemon.stacks.active_stack_id() if daemon.stacks is not None else None
    if running is not None:
        raise ProblemError(409, f"stack {running} is running; a scan needs the rail", code="stack_running")
    if rail.state != "idle" or not rail.position_known:
        raise ProblemError(409, f"the rail is {rail.state}; it must be idle at a known position", code="rail_busy")
    limits = rail.status()["limits"]
    for name, value in (("from_um", body.from_um), ("to_um", body.to_um)):
        if limits and not limits["min_um"] <= value <= limits["max_um"]:
            raise ProblemError(
                422, f"{name} {value:g} is outside the soft limits", code="out_of_limits", **limits, field=name
            )
    try:
        return focus.scanner.start(rail, camera, body.from_um, body.to_um, body.samples)
    except ScanRefused as exc:
        raise _refused(exc) from exc


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
    if not camera.capabilities.preview:
        raise ProblemError(503, NO_LIVE_VIEW.format(backend=camera.backend), code="no_live_view")
    view = liveview_for(camera, daemon.config.camera.liveview_max_fps)
    # The newest shared frame if it is recent, else a new one within live view's frame cap.
    jpeg, taken_at = await view.frame(newer_than=time.monotonic() - view.interval_s)
    reading = await focus.meter.reading(jpeg, taken_at)
    position = daemon.rail.status().get("position_um") if daemon.rail is not None else None
    return {**reading, "position_um": position}


class ExtendRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    end: Literal["near", "far"]
    frames: Annotated[int, Field(ge=1, le=10_000), AS_WHOLE] | None = Field(  # bounds: see AS_WHOLE
        None, description="default: enough to reach the coverage suggestion"
    )


@router.post(
    "/stacks/{stack_id}/extend",
    status_code=201,
    responses=problem_responses(*AUTHED, *BODY, 403, 404, 409, 503, 507),
)
async def extend(stack_id: StackId, body: ExtendRequest, stacks: StacksDep, focus: FocusDep) -> dict[str, Any]:
    """Start a follow-up stack continuing this one at its near or far end with the same step."""
    parent = stacks.extendable(stack_id, body.end)  # 404 none, 409 while it runs or that end is taken
    try:
        frames = body.frames
        if frames is None:
            view = _view(stacks, stack_id)
            cov = await focus.coverage(view, wait_s=_catch_up_s(stacks, stack_id))
            frames = frames_to_reach(parent.plan, body.end, cov.suggest)
        request = extension_body(parent.plan, body.end, frames, parent.name or parent.id)
    except ExtendRefused as exc:
        raise ProblemError(exc.status, exc.message, code=exc.code) from exc
    return stacks.create(request, extends=(parent.id, body.end)).status()
