"""The emulator's EEPROM: grbl's `$` settings, their `$$` listing and `$n=v` rules.

Defaults are grbl 1.1's for the axes the rail is not on, and the values raild
expects (see raild/drives/grbl/settings.py) for the rest, so a fresh emulator
agrees with the config it was started from; tests override single settings to
play a mismatched board.
"""

from __future__ import annotations

from raild.config import Config
from raild.drives.grbl.codes import BOOLEAN_SETTINGS, SETTINGS
from raild.drives.grbl.settings import expected_settings, format_value
from raild.sim.grbl.gcode import GcodeError

GRBL_DEFAULTS: dict[int, float] = {
    0: 10, 1: 25, 2: 0, 3: 0, 4: 0, 5: 0, 6: 0, 10: 1, 11: 0.010, 12: 0.002, 13: 0,
    20: 0, 21: 0, 22: 0, 23: 0, 24: 25.0, 25: 500.0, 26: 250, 27: 1.0,
    30: 1000, 31: 0, 32: 0,
    100: 250.0, 101: 250.0, 102: 250.0, 110: 500.0, 111: 500.0, 112: 500.0,
    120: 10.0, 121: 10.0, 122: 10.0, 130: 200.0, 131: 200.0, 132: 200.0,
}  # fmt: skip


def initial_settings(config: Config, axis: str, overrides: dict[int, float] | None = None) -> dict[int, float]:
    values = dict(GRBL_DEFAULTS)
    for exp in expected_settings(config, axis):
        if exp.kind == "bit":
            mask = int(values[exp.number])
            values[exp.number] = float(mask | 1 << exp.bit if exp.want else mask & ~(1 << exp.bit))
        else:
            values[exp.number] = float(exp.want)
    values.update(overrides or {})
    return values


def listing(values: dict[int, float]) -> list[str]:
    """The `$$` answer, one `$n=v` line per setting in number order."""
    return [f"${n}={format_value(n, values[n])}" for n in sorted(values)]


def apply(values: dict[int, float], number: int, value: float) -> None:
    """`$n=v`, with grbl's refusals as GcodeError codes."""
    if number not in SETTINGS:
        raise GcodeError(3)
    if value < 0:
        raise GcodeError(4)
    if number == 0 and value < 3:
        raise GcodeError(6)
    if number in BOOLEAN_SETTINGS:
        value = 1.0 if int(value) else 0.0
    if number == 20 and value and not values[22]:
        raise GcodeError(10)
    values[number] = value
    if number == 22 and not value:
        values[20] = 0.0  # grbl drops soft limits with homing
