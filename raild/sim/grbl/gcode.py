"""The emulator's line parser: grbl's clean-up, then words into a typed block.

grbl strips spaces, control characters and comments (`(...)` and `;` to the end)
and upper-cases the rest before parsing. Supported: G0 G1 G4 G17 G20 G21 G53 G54
G90 G91 G94, M0 M1 M2 M30 M3 M4 M5 M8 M9, words F N P S T X Y Z. Anything else is
refused with grbl's error code for it.
"""

from __future__ import annotations

from dataclasses import dataclass, field


class GcodeError(Exception):
    def __init__(self, code: int) -> None:
        super().__init__(f"error:{code}")
        self.code = code


@dataclass
class Block:
    motion: int | None = None  # 0 or 1
    dwell: bool = False
    machine: bool = False  # G53
    inches: bool | None = None  # G20 / G21
    incremental: bool | None = None  # G91 / G90
    axes: dict[str, float] = field(default_factory=dict)
    words: dict[str, float] = field(default_factory=dict)  # F N P S T
    mcodes: list[int] = field(default_factory=list)


_MODAL_GROUPS = {0: "motion", 1: "motion", 4: "nonmodal", 53: "nonmodal", 17: "plane", 20: "units", 21: "units"}
_MODAL_GROUPS.update({54: "wcs", 90: "distance", 91: "distance", 94: "feedmode"})
_M_GROUPS = {0: "stop", 1: "stop", 2: "stop", 30: "stop", 3: "spindle", 4: "spindle", 5: "spindle", 8: "coolant"}
_M_GROUPS[9] = "coolant"
JOG_G = {20, 21, 53, 90, 91}


def clean(raw: str) -> str:
    """grbl's line clean-up: no spaces, no control characters, no comments, upper case."""
    out = []
    in_paren = False
    for ch in raw:
        if in_paren:
            if ch == ")":
                in_paren = False
            continue
        if ch == "(":
            in_paren = True
        elif ch == ";":
            break
        elif ch <= " " or ch == "\x7f":
            continue
        else:
            out.append(ch.upper())
    return "".join(out)


def _number(text: str, i: int) -> tuple[float, int]:
    j = i
    if j < len(text) and text[j] in "+-":
        j += 1
    digits = 0
    while j < len(text) and (text[j].isdigit() or text[j] == "."):
        digits += text[j].isdigit()
        j += 1
    if digits == 0 or text[i:j].count(".") > 1:
        raise GcodeError(2)
    return float(text[i:j]), j


def parse(text: str, jog: bool = False) -> Block:
    """Parse a cleaned line (for a jog: the part after `$J=`)."""
    block = Block()
    groups: set[str] = set()
    i = 0
    while i < len(text):
        letter = text[i]
        if not "A" <= letter <= "Z":
            raise GcodeError(1)
        value, i = _number(text, i + 1)
        if letter == "G":
            code = int(value)
            if value != code or code not in _MODAL_GROUPS or (jog and code not in JOG_G):
                raise GcodeError(16 if jog else 20)
            group = _MODAL_GROUPS[code]
            if group in groups:
                raise GcodeError(21)
            groups.add(group)
            if code in (0, 1):
                block.motion = code
            elif code == 4:
                block.dwell = True
            elif code == 53:
                block.machine = True
            elif code in (20, 21):
                block.inches = code == 20
            elif code in (90, 91):
                block.incremental = code == 91
        elif letter == "M":
            code = int(value)
            if jog:
                raise GcodeError(16)
            if value != code or code not in _M_GROUPS:
                raise GcodeError(20)
            if "m" + _M_GROUPS[code] in groups:
                raise GcodeError(21)
            groups.add("m" + _M_GROUPS[code])
            block.mcodes.append(code)
        elif letter in "XYZ":
            if letter in block.axes:
                raise GcodeError(25)
            block.axes[letter] = value
        elif letter in "FNPST":
            if letter in block.words:
                raise GcodeError(25)
            if value < 0:
                raise GcodeError(4)
            if jog and letter not in "FN":
                raise GcodeError(16)
            block.words[letter] = value
        else:
            raise GcodeError(20)
    if block.dwell and "P" not in block.words:
        raise GcodeError(28)
    if block.dwell and block.axes:
        raise GcodeError(31)
    if jog:
        if "F" not in block.words:
            raise GcodeError(22)
        if not block.axes:
            raise GcodeError(26)
    return block
