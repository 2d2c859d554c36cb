"""Read systemd unit files the way systemd does for the keys we test.

configparser cannot: systemd repeats keys (each `ExecStart=` appends, an empty
one clears the list) and continues lines with a trailing backslash.
"""

from __future__ import annotations

from pathlib import Path

Unit = dict[str, dict[str, list[str]]]


def parse_unit(path: Path) -> Unit:
    sections: Unit = {}
    current: dict[str, list[str]] | None = None
    pending = ""
    for raw in path.read_text().splitlines():
        line = pending + raw.strip()
        pending = ""
        if not line or line.startswith(("#", ";")):
            continue
        if line.endswith("\\"):
            pending = line[:-1] + " "
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
            continue
        if current is None or "=" not in line:
            raise ValueError(f"{path}: not a unit-file line: {line!r}")
        key, value = (part.strip() for part in line.split("=", 1))
        values = current.setdefault(key, [])
        if value == "":
            values.clear()  # an empty assignment resets list-valued keys
            values.append("")
        else:
            if values == [""]:
                values.clear()
            values.append(value)
    return sections


def words(unit: Unit, section: str, key: str) -> list[str]:
    """All space-separated words of every assignment of a key."""
    return [w for value in unit.get(section, {}).get(key, []) for w in value.split()]


def last(unit: Unit, section: str, key: str) -> str | None:
    values = unit.get(section, {}).get(key)
    return values[-1] if values else None
