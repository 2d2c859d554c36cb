"""Moving the rail. Stop and e-stop go straight to the rail on the event loop,
never behind a queue, a lock or other requests' work."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Response, status
from pydantic import BaseModel, ConfigDict, Field, model_validator

from raild.api.deps import Authed, DaemonDep, ManualRailDep, RailDep
from raild.api.models import Status
from raild.api.problems import AUTHED, BODY, problem_responses
from raild.motion.units import MAX_ABS_UM
from raild.usecases import motion as use

router = APIRouter(prefix="/motion", tags=["motion"], dependencies=[Authed])

_STATE = (403, 409, 503)  # CSRF guard, rig state, hardware


class MoveRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    to_um: float | None = Field(None, ge=-MAX_ABS_UM, le=MAX_ABS_UM, allow_inf_nan=False, description="absolute target")
    by_um: float | None = Field(
        None, ge=-MAX_ABS_UM, le=MAX_ABS_UM, allow_inf_nan=False, description="relative distance"
    )
    speed_um_s: float | None = Field(
        None, gt=0, le=1_000_000, allow_inf_nan=False, description="default: rail.max_speed_um_s"
    )
    wait: bool = Field(False, description="answer 200 once the move is done")

    @model_validator(mode="after")
    def _one_target(self) -> MoveRequest:
        if (self.to_um is None) == (self.by_um is None):
            raise ValueError("give exactly one of to_um or by_um")
        return self


class MoveResult(BaseModel):
    target_um: float
    done: bool
    status: Status


class MotorRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    enabled: bool


@router.post(
    "/move",
    response_model=MoveResult,
    status_code=202,
    responses={
        200: {"model": MoveResult, "description": "wait was true and the move is done"},
        **problem_responses(*AUTHED, *BODY, *_STATE),
    },
)
async def move(body: MoveRequest, rail: ManualRailDep, daemon: DaemonDep, response: Response) -> MoveResult:
    target, done = await use.move(rail, body.to_um, body.by_um, body.speed_um_s, body.wait)
    if done:
        response.status_code = status.HTTP_200_OK
    return MoveResult(target_um=target, done=done, status=Status(**daemon.status()))


@router.post("/stop", response_model=Status, responses=problem_responses(*AUTHED, *_STATE))
async def stop(rail: RailDep, daemon: DaemonDep) -> dict[str, Any]:
    """Controlled stop; the position stays exact. A running stack is paused (resumable)."""
    await daemon.stop_motion()
    return daemon.status()


@router.post("/estop", response_model=Status, responses=problem_responses(*AUTHED, 403, 503))
async def estop(rail: RailDep, daemon: DaemonDep) -> dict[str, Any]:
    """Immediate halt and motor off, latched until POST /motion/reset. The position in the
    answer is final: exact, or unknown (null) when the halt could not be dated in time."""
    rail.estop()
    await rail.estop_answer()
    return daemon.status()


@router.post("/reset", response_model=Status, responses=problem_responses(*AUTHED, *_STATE))
async def reset(rail: RailDep, daemon: DaemonDep) -> dict[str, Any]:
    """Clears an e-stop or fault latch; the position may become unknown."""
    await rail.reset()
    return daemon.status()


@router.post("/home", response_model=Status, status_code=202, responses=problem_responses(*AUTHED, *_STATE))
async def home(rail: ManualRailDep, daemon: DaemonDep) -> dict[str, Any]:
    # Rail.home refuses without a home switch: 422 `no_home_switch`.
    await use.home(rail)
    return daemon.status()


@router.post("/zero", response_model=Status, responses=problem_responses(*AUTHED, *_STATE))
async def zero(rail: ManualRailDep, daemon: DaemonDep) -> dict[str, Any]:
    """The current position becomes 0 µm (rails without a home switch)."""
    rail.zero()
    return daemon.status()


@router.post("/motor", response_model=Status, responses=problem_responses(*AUTHED, *BODY, *_STATE))
async def motor(body: MotorRequest, rail: ManualRailDep, daemon: DaemonDep) -> dict[str, Any]:
    await rail.set_motor(body.enabled)
    return daemon.status()


class JogRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    direction: Literal["+", "-"] = Field(description='"+" towards max, "-" towards min')
    speed_um_s: float | None = Field(
        None, gt=0, le=1_000_000, allow_inf_nan=False, description="default: max speed (homing seek speed unhomed)"
    )


@router.post("/jog", response_model=Status, status_code=202, responses=problem_responses(*AUTHED, *BODY, *_STATE))
async def jog(body: JogRequest, rail: ManualRailDep, daemon: DaemonDep) -> dict[str, Any]:
    """Start or renew a hold-to-jog; it decelerates to rest unless renewed within rail.jog_deadman_ms."""
    await rail.jog(body.direction, body.speed_um_s)
    return daemon.status()
