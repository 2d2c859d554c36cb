"""Errors of the focus layer; `.status` is the HTTP status the API maps them to
(`raild/api/errors.py`), `.code` the problem's stable code."""

from __future__ import annotations


class FocusError(Exception):
    status = 409
    code = "focus_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Refused(FocusError):
    """A request the focus layer turns down; the status and code say why."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code = status, code


class ScanOutOfLimits(FocusError):
    """A scan end outside the rail's soft limits; `field` names which one."""

    status = 422
    code = "out_of_limits"

    def __init__(self, field: str, value: float, min_um: float, max_um: float) -> None:
        super().__init__(f"{field} {value:g} is outside the soft limits")
        self.field, self.min_um, self.max_um = field, min_um, max_um
