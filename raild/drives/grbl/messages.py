"""What a grbl board says, one line at a time, as typed messages (pure parsing).

A line that is not grbl's (binary noise, another device's banner, a cut-off
report) becomes `Unknown` carrying the text, so the drive can name it in a fault.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

BANNER_RE = re.compile(r"^Grbl(?:HAL)? (\S+) \[.*help\]$", re.IGNORECASE)
SETTING_RE = re.compile(r"^\$(\d+)=(-?\d+(?:\.\d*)?)$")


@dataclass(frozen=True)
class Ok:
    pass


@dataclass(frozen=True)
class Error:
    code: int


@dataclass(frozen=True)
class Alarm:
    code: int


@dataclass(frozen=True)
class Banner:
    version: str


@dataclass(frozen=True)
class Msg:
    text: str  # inside [MSG:...]


@dataclass(frozen=True)
class Feedback:
    text: str  # any other [...] line


@dataclass(frozen=True)
class Setting:
    number: int
    value: float


@dataclass(frozen=True)
class Status:
    state: str  # Idle, Run, Hold, Jog, Alarm, Door, Check, Home, Sleep
    sub: int | None  # Hold:0 -> 0
    mpos: tuple[float, ...] | None  # None when the board reports WPos only
    wpos: tuple[float, ...] | None
    feed: float | None
    pins: str


@dataclass(frozen=True)
class Unknown:
    text: str


Message = Ok | Error | Alarm | Banner | Msg | Feedback | Setting | Status | Unknown
STATES = {"Idle", "Run", "Hold", "Jog", "Alarm", "Door", "Check", "Home", "Sleep"}


def _floats(text: str) -> tuple[float, ...] | None:
    try:
        return tuple(float(v) for v in text.split(","))
    except ValueError:
        return None


def parse_status(line: str) -> Status | None:
    if not (line.startswith("<") and line.endswith(">")):
        return None
    fields = line[1:-1].split("|")
    state, _, sub = fields[0].partition(":")
    if state not in STATES or (sub and not sub.isdigit()):
        return None
    mpos = wpos = None
    feed: float | None = None
    pins = ""
    for f in fields[1:]:
        name, _, value = f.partition(":")
        if name == "MPos":
            mpos = _floats(value)
            if mpos is None:
                return None
        elif name == "WPos":
            wpos = _floats(value)
        elif name in ("FS", "F"):
            nums = _floats(value)
            feed = nums[0] if nums else None
        elif name == "Pn":
            pins = value
    if mpos is None and wpos is None:
        return None
    return Status(state, int(sub) if sub else None, mpos, wpos, feed, pins)


def parse_line(line: str) -> Message:
    if line == "ok":
        return Ok()
    for prefix, kind in (("error:", Error), ("ALARM:", Alarm)):
        if line.startswith(prefix) and line[len(prefix) :].isdigit():
            return kind(int(line[len(prefix) :]))
    if line.startswith("<"):
        return parse_status(line) or Unknown(line)
    if line.startswith("[MSG:") and line.endswith("]"):
        return Msg(line[5:-1])
    if line.startswith("[") and line.endswith("]"):
        return Feedback(line[1:-1])
    m = BANNER_RE.match(line)
    if m:
        return Banner(m.group(1))
    m = SETTING_RE.match(line)
    if m:
        return Setting(int(m.group(1)), float(m.group(2)))
    return Unknown(line)
