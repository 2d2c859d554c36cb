"""The one place where errors of the layers become HTTP problems.

Routes call the daemon's use cases and the layers and let their errors rise; the
handlers installed here turn each into a problem document with the status API.md gives.
"""

from __future__ import annotations

import logging
import re

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from raild.api.problems import jsonable, problem_response
from raild.camera.errors import CameraError
from raild.focus.errors import FocusError
from raild.hw.errors import HardwareUnavailable
from raild.logs import log_event
from raild.motion.errors import MotionError
from raild.stacks.errors import StackError

log = logging.getLogger("raild.api")

# Extra attributes worth showing the client (e.g. the allowed range).
_EXTRA_FIELDS = ("min_um", "max_um", "field", "stack_id", "choices", "setting", "allowed", "state", "errors")
# Each layer's base error (the hardware connection's is not a MotionError).
LAYER_ERRORS: tuple[type[Exception], ...] = (HardwareUnavailable, MotionError, CameraError, StackError, FocusError)


def _code(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def status_for(exc: BaseException) -> int:
    """Every layer's base error declares `status` (its subclasses refine it)."""
    status = getattr(exc, "status", None)
    if isinstance(status, int) and 400 <= status <= 599:
        return status
    return 500  # a layer error without a status is a bug of that layer


def layer_problem(exc: BaseException) -> JSONResponse:
    status = status_for(exc)
    extra = {f: jsonable(getattr(exc, f)) for f in _EXTRA_FIELDS if getattr(exc, f, None) is not None}
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
