"""The hardware connection: one pigpio client and a gpiozero factory on the same pigpiod."""

from raild.hw.connection import Hardware
from raild.hw.errors import HardwareUnavailable

__all__ = ["Hardware", "HardwareUnavailable"]
