"""Facts about pigpiod that raild relies on (pigpio.c and pigpio.h, v79), kept in one place.

The pigpio client library's own names (`pigpio.OUTPUT`, `pigpio.pulse`...) are used
where pins are driven; what the library leaves out, or what raild speaks to pigpiod
without the library (`raild check`), is written down here once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

# Every wave and chain starts with a 20 µs delay control block before its first pulse.
START_DELAY_US = 20
TICK_WRAP = 2**32  # ticks are uint32 µs and wrap about every 71.6 minutes
HALF_WRAP = 2**31  # a tick difference this large means "before", not "4295 s later"
NO_TX_WAVE = 9999  # wave_tx_at(): nothing is transmitting
WAVE_NOT_FOUND = 9998  # wave_tx_at(): between waves of a chain, or a deleted one

# Socket commands (pigpio.h): a 16-byte request <cmd, p1, p2, 0>, a 16-byte answer
# whose last int32 is the result.
CMD_MODEG, CMD_HWVER, CMD_PIGPV = 1, 17, 26
# MODEG's answers: the BCM function-select codes.
MODE_NAMES = {0: "input", 1: "output", 4: "ALT0", 5: "ALT1", 6: "ALT2", 7: "ALT3", 3: "ALT4", 2: "ALT5"}


def ticks_diff(later: int, earlier: int) -> int:
    """µs from `earlier` to `later`, across a tick wrap-around."""
    return (later - earlier) % TICK_WRAP


class Pulse(NamedTuple):
    """One entry of a wave (gpioPulse_t): levels set high, levels set low, then a delay."""

    on_mask: int
    off_mask: int
    delay_us: int


@dataclass(frozen=True)
class PigpioLimits:
    """pigpio's hard limits (pigpio.h / pigpio.c / command.h, v79)."""

    pulses_per_wave: int = 12_000
    pulses_per_call: int = 5461
    wave_ids: int = 250
    chain_cbs: int = 600
    loop_counters: int = 20
    nesting: int = 10
    loop_count: int = 65_535
    delay_us: int = 65_535
    wave_cbs: int = 25_016
    wave_ools: int = 16_748


PIGPIO = PigpioLimits()
