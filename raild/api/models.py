"""Response models shared by several routes (the status document of API.md).

They allow extra fields: a layer may add detail without breaking the contract,
but every documented field must be there with its type.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

RigState = Literal["idle", "moving", "homing", "fault", "estop"]


def _integral(value: Any) -> Any:
    # JSON has one number type: 51.0 is the integer 51 (JSON Schema agrees), 51.5 is not.
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


# A whole number in strict request models: integral floats accepted, strings refused.
AS_WHOLE = BeforeValidator(_integral)
WholeNumber = Annotated[int, AS_WHOLE]
# Bounds on an optional whole number go on the number, before the validator:
# `Annotated[int, Field(ge=1), AS_WHOLE] | None`. Anywhere else pydantic cannot place
# them and writes its raw `ge`/`le` into the schema, which JSON Schema validators ignore.


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
