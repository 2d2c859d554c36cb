"""Motion: pure profiles, halts, units and wave programs, and the `Rail`, which moves through a `Drive`."""

from raild.motion.errors import (
    EstopLatched,
    FaultLatched,
    HardwareUnavailable,
    HomeSwitchFitted,
    HomingFailed,
    InvalidMove,
    MotionError,
    MoveInterrupted,
    NoHomeSwitch,
    NotHomed,
    OutOfLimits,
    PositionUnknown,
    RailBusy,
)
from raild.motion.rail import Rail

__all__ = [
    "EstopLatched",
    "FaultLatched",
    "HardwareUnavailable",
    "HomeSwitchFitted",
    "HomingFailed",
    "InvalidMove",
    "MotionError",
    "MoveInterrupted",
    "NoHomeSwitch",
    "NotHomed",
    "OutOfLimits",
    "PositionUnknown",
    "Rail",
    "RailBusy",
]
