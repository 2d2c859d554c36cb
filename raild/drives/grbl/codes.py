"""grbl 1.1 numbers and their meanings, as documented for the firmware.

Shared by the grbl drive (to name what a board says) and the grbl emulator (to
say it). The texts are short paraphrases; the numbers are grbl's.
"""

from __future__ import annotations

from dataclasses import dataclass

ERRORS: dict[int, str] = {
    1: "G-code word without a letter",
    2: "missing or badly formatted number",
    3: "'$' command not recognised or not supported",
    4: "negative value where a positive one is expected",
    5: "homing is not enabled ($22)",
    6: "step pulse must be at least 3 µs",
    7: "EEPROM read failed; defaults restored",
    8: "'$' command needs the Idle state",
    9: "G-code locked out in the alarm or jog state",
    10: "soft limits need homing enabled",
    11: "line too long",
    12: "setting would exceed the maximum step rate",
    13: "safety door open",
    14: "build info or startup line too long",
    15: "jog target exceeds the machine travel",
    16: "invalid jog command",
    17: "laser mode needs PWM output",
    20: "unsupported G-code command",
    21: "more than one command from one modal group",
    22: "feed rate not set",
    23: "command needs an integer value",
    24: "more than one command needing axis words",
    25: "word repeated in the block",
    26: "no axis words for a command that needs them",
    27: "invalid line number",
    28: "command is missing a required value",
    29: "G59.x work coordinates not supported",
    30: "G53 only with G0 or G1",
    31: "axis words where no command uses them",
    32: "arc without an in-plane axis word",
    33: "invalid motion target",
    34: "invalid arc radius",
    35: "arc without an in-plane offset",
    36: "unused value words in the block",
    37: "tool length offset not on the configured axis",
    38: "tool number too large",
}

ALARMS: dict[int, str] = {
    1: "hard limit: a limit switch tripped during motion; position likely lost, re-home",
    2: "soft limit: target beyond the machine travel; position kept",
    3: "reset while moving; position likely lost, re-home",
    4: "probe not in the expected initial state",
    5: "probe did not make contact",
    6: "homing failed: the cycle was reset",
    7: "homing failed: safety door opened",
    8: "homing failed: pull-off did not clear the limit switch",
    9: "homing failed: limit switch not found within the search distance",
    10: "homing failed: second dual-axis switch not found",
}

# Alarms after which grbl's machine position no longer matches the carriage.
POSITION_LOST_ALARMS = frozenset({1, 3, 6, 7, 8, 9, 10})


@dataclass(frozen=True)
class SettingInfo:
    number: int
    name: str
    unit: str


SETTINGS: dict[int, SettingInfo] = {
    s.number: s
    for s in (
        SettingInfo(0, "step pulse time", "µs"),
        SettingInfo(1, "step idle delay", "ms (255 = keep motors enabled)"),
        SettingInfo(2, "step pulse invert", "mask"),
        SettingInfo(3, "step direction invert", "mask"),
        SettingInfo(4, "invert step enable pin", "boolean"),
        SettingInfo(5, "invert limit pins", "boolean"),
        SettingInfo(6, "invert probe pin", "boolean"),
        SettingInfo(10, "status report options", "mask"),
        SettingInfo(11, "junction deviation", "mm"),
        SettingInfo(12, "arc tolerance", "mm"),
        SettingInfo(13, "report in inches", "boolean"),
        SettingInfo(20, "soft limits enable", "boolean"),
        SettingInfo(21, "hard limits enable", "boolean"),
        SettingInfo(22, "homing cycle enable", "boolean"),
        SettingInfo(23, "homing direction invert", "mask"),
        SettingInfo(24, "homing locate feed rate", "mm/min"),
        SettingInfo(25, "homing search seek rate", "mm/min"),
        SettingInfo(26, "homing switch debounce delay", "ms"),
        SettingInfo(27, "homing switch pull-off distance", "mm"),
        SettingInfo(30, "maximum spindle speed", "RPM"),
        SettingInfo(31, "minimum spindle speed", "RPM"),
        SettingInfo(32, "laser-mode enable", "boolean"),
        SettingInfo(100, "X steps per mm", "steps/mm"),
        SettingInfo(101, "Y steps per mm", "steps/mm"),
        SettingInfo(102, "Z steps per mm", "steps/mm"),
        SettingInfo(110, "X maximum rate", "mm/min"),
        SettingInfo(111, "Y maximum rate", "mm/min"),
        SettingInfo(112, "Z maximum rate", "mm/min"),
        SettingInfo(120, "X acceleration", "mm/s²"),
        SettingInfo(121, "Y acceleration", "mm/s²"),
        SettingInfo(122, "Z acceleration", "mm/s²"),
        SettingInfo(130, "X maximum travel", "mm"),
        SettingInfo(131, "Y maximum travel", "mm"),
        SettingInfo(132, "Z maximum travel", "mm"),
    )
}

# Boolean settings are kept as flags by the firmware (answers 0 or 1).
BOOLEAN_SETTINGS = frozenset({4, 5, 6, 13, 20, 21, 22, 32})
INTEGER_SETTINGS = frozenset({0, 1, 2, 3, 10, 23, 26}) | BOOLEAN_SETTINGS

AXES = "XYZ"

# Real-time command bytes: picked off the serial stream, never buffered.
RT_STATUS = b"?"
RT_HOLD = b"!"
RT_RESUME = b"~"
RT_RESET = b"\x18"
RT_DOOR = b"\x84"
RT_JOG_CANCEL = b"\x85"

RX_BUFFER_BYTES = 128  # serial receive buffer a character-counting sender may fill
PLANNER_BLOCKS = 15  # usable look-ahead blocks (one of 16 is kept free)
LINE_MAX_CHARS = 80  # longer lines are refused with error:11


def error_text(code: int) -> str:
    return ERRORS.get(code, "unknown error")


def alarm_text(code: int) -> str:
    return ALARMS.get(code, "unknown alarm")


def setting_name(number: int) -> str:
    info = SETTINGS.get(number)
    return f"${number} ({info.name}, {info.unit})" if info else f"${number}"
