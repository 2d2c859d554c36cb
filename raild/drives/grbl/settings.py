"""The grbl `$` settings raild expects, derived from its own config, and the check.

raild plans in microsteps from `[rail]` and `[homing]`; the board plans in mm from
its EEPROM. They must agree, or a move of N steps lands somewhere else, a stop
decelerates at another rate, or homing searches the wrong way. At connect the
drive reads `$$` and compares; every disagreement is named with its fix, and
nothing is written unless the user asks (`raild check --fix-grbl`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from raild.config import Config
from raild.drives.grbl.codes import AXES, INTEGER_SETTINGS, setting_name

Kind = Literal["value", "bit"]
REL_TOLERANCE = 1e-4  # grbl prints 3 decimals; steps/mm like 3200/0.7 need a relative check


@dataclass(frozen=True)
class Expected:
    number: int
    want: float  # the value, or for kind "bit": 1 = the axis bit set, 0 = clear
    kind: Kind
    why: str
    bit: int = 0


@dataclass(frozen=True)
class Mismatch:
    number: int
    have: float | None
    want: float
    why: str
    fix: str  # the `$n=v` line that makes the board agree

    def line(self) -> str:
        have = "missing" if self.have is None else format_value(self.number, self.have)
        return f"{setting_name(self.number)} is {have}, raild needs {self._want_text()} ({self.why}); fix: {self.fix}"

    def _want_text(self) -> str:
        return self.fix.split("=", 1)[1]


def axis_index(axis: str) -> int:
    return AXES.index(axis)


def format_value(number: int, value: float) -> str:
    return str(round(value)) if number in INTEGER_SETTINGS else f"{value:.3f}"


def expected_settings(config: Config, axis: str) -> list[Expected]:
    i = axis_index(axis)
    rail, homing = config.rail, config.homing
    homes = config.has_home_switch
    out = [
        Expected(100 + i, rail.steps_per_mm, "value", "motor_steps_per_rev × microsteps / lead_mm"),
        Expected(110 + i, rail.max_speed_um_s * 60.0 / 1000.0, "value", "rail.max_speed_um_s in mm/min"),
        Expected(120 + i, rail.accel_um_s2 / 1000.0, "value", "rail.accel_um_s2 in mm/s²"),
        Expected(130 + i, rail.travel_mm, "value", "rail.travel_mm"),
        Expected(10, 1, "bit", "status reports must carry the machine position (MPos)", bit=0),
        Expected(13, 0, "value", "positions are read in mm"),
        Expected(1, 255, "value", "motors stay enabled between moves; raild disables them itself"),
        Expected(22, 1 if homes else 0, "value", f"homing.switch = {homing.switch!r}"),
        Expected(20, 1 if homes else 0, "value", "grbl's soft limits need homing; on with a home switch"),
        Expected(21, 1 if homes else 0, "value", "hard limits halt on the switches when they are wired"),
    ]
    if homes:
        out += [
            Expected(23, 1 if homing.switch == "min" else 0, "bit", f"home towards the {homing.switch} switch", bit=i),
            Expected(24, homing.approach_speed_um_s * 60.0 / 1000.0, "value", "homing.approach_speed_um_s in mm/min"),
            Expected(25, homing.seek_speed_um_s * 60.0 / 1000.0, "value", "homing.seek_speed_um_s in mm/min"),
            Expected(27, homing.backoff_um / 1000.0, "value", "homing.backoff_um in mm"),
        ]
    return out


def _close(have: float, want: float) -> bool:
    return abs(have - want) <= max(REL_TOLERANCE * abs(want), 0.0015)


def compare(have: dict[int, float], config: Config, axis: str) -> list[Mismatch]:
    """Every expected setting the board disagrees with (empty: they agree)."""
    problems: list[Mismatch] = []
    for exp in expected_settings(config, axis):
        value = have.get(exp.number)
        if exp.kind == "bit":
            mask = int(value) if value is not None else 0
            is_set = bool(mask >> exp.bit & 1)
            if value is not None and is_set == bool(exp.want):
                continue
            fixed = (mask | 1 << exp.bit) if exp.want else (mask & ~(1 << exp.bit))
            problems.append(Mismatch(exp.number, value, float(fixed), exp.why, f"${exp.number}={fixed}"))
            continue
        if value is not None and _close(value, exp.want):
            continue
        problems.append(
            Mismatch(exp.number, value, exp.want, exp.why, f"${exp.number}={format_value(exp.number, exp.want)}")
        )
    return problems


def fix_lines(mismatches: list[Mismatch]) -> list[str]:
    # $22 (homing) before $20 (soft limits): grbl refuses soft limits without homing.
    order = {22: 0, 20: 2}
    return [m.fix for m in sorted(mismatches, key=lambda m: order.get(m.number, 1))]
