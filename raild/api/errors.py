"""The one place where errors of the layers become HTTP problems.

Routes call the rail, camera and stacks and let their errors rise; the handlers
installed here turn each into a problem document with the status API.md gives.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from raild.api.problems import problem_response
from raild.camera.errors import CameraError
from raild.hw.errors import HardwareUnavailable
from raild.logs import log_event
from raild.motion.errors import MotionError
from raild.stacks.errors import StackError

log = logging.getLogger("raild.api")

# Motion errors by class name, most specific first along the MRO (internals.md).
_STATUS_BY_NAME = {
    "RailBusy": 409,
    "NotHomed": 409,
    "EstopLatched": 409,
    "FaultLatched": 409,
    "MoveInterrupted": 409,
    "OutOfLimits": 422,
    "NoHomeSwitch": 422,
    "HardwareUnavailable": 503,
    "CameraUnavailable": 503,
    "CameraBusy": 409,
    "InvalidSetting": 422,
    "Unsupported": 503,
    "CaptureFailed": 503,
}
# Extra attributes worth showing the client (e.g. the allowed range).
_EXTRA_FIELDS = ("min_um", "max_um", "choices", "setting", "allowed", "state", "errors")
# Each layer's base error (the hardware connection's is not a MotionError).
LAYER_ERRORS: tuple[type[Exception], ...] = (HardwareUnavailable, MotionError, CameraError, StackError)


def _code(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _jsonable(value: Any) -> Any:
    if isinstance(value, (str, int, bool)) or value is None:
        return value
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else None
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_jsonable(v) for v in value]
    return str(value)


def status_for(exc: BaseException) -> int:
    explicit = getattr(exc, "status", None)
    if isinstance(explicit, int) and 400 <= explicit <= 599:
        return explicit
    for cls in type(exc).__mro__:
        if cls.__name__ in _STATUS_BY_NAME:
            return _STATUS_BY_NAME[cls.__name__]
    return 409


def layer_problem(exc: BaseException) -> JSONResponse:
    status = status_for(exc)
    extra = {f: _jsonable(getattr(exc, f)) for f in _EXTRA_FIELDS if getattr(exc, f, None) is not None}
    detail = str(exc) or type(exc).__name__
    if status >= 500:
        log_event(log, "layer unavailable", logging.WARNING, error=type(exc).__name__, detail=detail)
    code = getattr(exc, "code", None)
    if not isinstance(code, str):
        code = _code(type(exc).__name__)
    return problem_response(status, detail, code=code, **extra)


def install_layer_error_handlers(app: FastAPI) -> None:
    async def _handler(_: Request, exc: Exception) -> JSONResponse:
        return layer_problem(exc)

    for base in LAYER_ERRORS:
        app.add_exception_handler(base, _handler)
