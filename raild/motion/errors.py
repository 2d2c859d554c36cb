"""Errors of the motion layer; `status` is the HTTP status the API maps them to."""

from __future__ import annotations

from raild.hw.errors import HardwareUnavailable as _HwUnavailable


class MotionError(Exception):
    status = 409
    code = "motion_error"


class RailBusy(MotionError):
    code = "busy"


class NotHomed(MotionError):
    code = "not_homed"

    def __init__(self, message: str = "must home first") -> None:
        super().__init__(message)


class PositionUnknown(MotionError):
    """A move relative to a position the rail does not know (home or zero first)."""

    code = "position_unknown"


class EstopLatched(MotionError):
    code = "estop"


class FaultLatched(MotionError):
    code = "fault"


class OutOfLimits(MotionError):
    status = 422
    code = "out_of_limits"

    def __init__(self, message: str, min_um: float, max_um: float) -> None:
        super().__init__(message)
        self.min_um = min_um
        self.max_um = max_um


class InvalidMove(MotionError):
    """A value that cannot be a move (NaN, a speed out of range, a move pigpio cannot run)."""

    status = 422
    code = "invalid_move"


class NoHomeSwitch(MotionError):
    status = 422
    code = "no_home_switch"


class HomeSwitchFitted(MotionError):
    """`zero()` on a rail that homes on its switch: the switch defines zero."""

    code = "home_switch_fitted"


class HomingFailed(MotionError):
    code = "homing_failed"


class MoveInterrupted(MotionError):
    """A stop, an e-stop or a limit switch ended the move early."""

    code = "interrupted"


class HostFellBehind(MoveInterrupted):
    """The host froze just before a step segment was sent, so a segment too fast to start
    from rest may have started from rest: the motor may have stalled. The motion was stopped
    at once and the position is unknown (home again)."""


class HardwareUnavailable(MotionError, _HwUnavailable):
    status = 503
    code = "hardware_unavailable"
