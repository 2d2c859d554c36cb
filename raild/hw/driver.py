"""The stepper driver's output pins: the one routine that makes it safe.

`disable_driver` halts the wave engine, frees every wave, pulls STEP low and drives
EN to its inactive level. The pigpio drive runs it when it takes the pins, and
`raild safe-stop` runs it after the daemon has gone (pigpiod keeps transmitting a
wave after its client has left). Blocking pigpio calls: run them on the pigpio
thread, or in a process of their own.
"""

from __future__ import annotations

import pigpio

from raild.config import PinsConfig


def enable_level(pins: PinsConfig, enabled: bool) -> int:
    """The level of EN that enables (True) or disables (False) the driver."""
    return int(enabled) ^ int(pins.enable_active_low)


def disable_enable_pin(pi: pigpio.pi, pins: PinsConfig) -> None:
    """EN to its inactive level (no pin fitted: nothing to do). Safe from any thread."""
    if pins.enable:
        pi.write(pins.enable, enable_level(pins, False))


def disable_driver(pi: pigpio.pi, pins: PinsConfig) -> None:
    """Halt any wave, free every wave, STEP low, EN inactive."""
    pi.wave_tx_stop()
    pi.wave_clear()
    pi.set_mode(pins.step, pigpio.OUTPUT)
    pi.write(pins.step, 0)
    if pins.enable:
        pi.set_mode(pins.enable, pigpio.OUTPUT)
        disable_enable_pin(pi, pins)
