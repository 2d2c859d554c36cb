"""Response models shared by several routes (the status document of API.md).

They allow extra fields: a layer may add detail without breaking the contract,
but every documented field must be there with its type.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

RigState = Literal["idle", "moving", "homing", "fault", "estop"]


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class Limits(_Open):
    min_um: float
    max_um: float


class Switches(_Open):
    min: bool
    max: bool


class CameraStatus(_Open):
    backend: str
    connected: bool
    model: str | None = None


class JobSummary(_Open):
    id: str
    state: str
    frame: int
    frames: int
    eta_s: float | None = None


class Fault(_Open):
    code: str
    message: str


class Status(_Open):
    state: RigState
    position_um: float | None = Field(None, description="null while the position is unknown")
    position_steps: int | None = None
    position_known: bool
    homed: bool
    motor_enabled: bool
    limits: Limits
    switches: Switches
    camera: CameraStatus
    job: JobSummary | None = None
    fault: Fault | None = None
