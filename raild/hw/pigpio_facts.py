"""Facts about pigpiod that the motion layer relies on (pigpio.c, v79)."""

from __future__ import annotations

# Every wave and chain starts with a 20 µs delay control block before its first pulse.
START_DELAY_US = 20
TICK_WRAP = 2**32  # ticks are uint32 µs and wrap about every 71.6 minutes


def ticks_diff(later: int, earlier: int) -> int:
    """µs from `earlier` to `later`, across a tick wrap-around."""
    return (later - earlier) % TICK_WRAP
