"""Errors of the hardware connection."""

from __future__ import annotations


class HardwareUnavailable(Exception):
    """pigpiod cannot be reached, or the connection to it was lost (HTTP 503)."""

    status = 503
    code = "hardware_unavailable"
