"""The pigpio drive: step segments streamed to pigpiod's wave engine."""

from raild.drives.pigpio.drive import PigpioDrive

__all__ = ["PigpioDrive"]
