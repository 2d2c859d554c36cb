"""Config files for daemons started by tests: TOML from plain dicts or a `Config`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from raild.config import Config

Sections = dict[str, dict[str, Any]]

# A virtual rig that homes in a second or two (the carriage starts 2 mm above the min
# switch) with short camera times, so a 20-frame stack takes a few seconds.
QUICK_SIM: Sections = {
    "sim": {
        "start_position_um": 2000.0,
        "capture_latency_ms": 30,
        "download_ms": 40,
        "preview_ms": 5,
        "image_width": 96,
        "image_height": 64,
    },
    "camera": {"settle_ms": 20, "retries": 2},
    "homing": {"backoff_um": 200.0, "seek_speed_um_s": 3000.0, "approach_speed_um_s": 1000.0},
    "daemon": {"mdns": False, "log_level": "info"},
}


def toml_text(sections: Sections) -> str:
    """Enough TOML for our config: tables of scalars and lists of strings."""
    lines: list[str] = []
    for name, values in sections.items():
        lines.append(f"[{name}]")
        for key, value in values.items():
            lines.append(f"{key} = {json.dumps(value)}")
    return "\n".join(lines) + "\n"


def merged(base: Sections, *overrides: Sections) -> Sections:
    """`base` with each override's keys laid over it, section by section (copies; no aliasing)."""
    out = {name: dict(values) for name, values in base.items()}
    for extra in overrides:
        for name, values in extra.items():
            out.setdefault(name, {}).update(values)
    return out


def write_toml(path: Path, config: Sections | str) -> Path:
    """Write a config (sections, or TOML text as is) to `path`; returns the path."""
    path.write_text(config if isinstance(config, str) else toml_text(config))
    return path


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a valid TOML basic string
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {value!r} as TOML")


def config_toml(config: Config) -> str:
    """A whole `Config` as TOML (omitting unset optional keys) for a subprocess to load."""
    lines = []
    for section, values in config.model_dump().items():
        lines.append(f"[{section}]")
        lines += [f"{key} = {_toml_value(v)}" for key, v in values.items() if v is not None]
    return "\n".join(lines) + "\n"


def write_config(config: Config, path: Path) -> Path:
    """Write a whole `Config` to `path` as TOML; returns the path."""
    path.write_text(config_toml(config))
    return path
