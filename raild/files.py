"""Files inside raild's own folders, never outside them.

The check is made on the canonical path (symlinks resolved), never on the text a
client sent: the file must still lie inside the resolved folder.
"""

from __future__ import annotations

from pathlib import Path


def within(root: Path, candidate: Path) -> Path | None:
    """The resolved candidate if it is a regular file inside the resolved root."""
    try:
        real_root = root.resolve(strict=True)
        real = candidate.resolve(strict=True)
    except (OSError, RuntimeError):
        return None
    if real_root not in real.parents or not real.is_file():
        return None
    return real
