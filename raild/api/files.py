"""Serving files from raild's folders without ever leaving them.

Names are checked against a strict pattern, then the path is resolved (symlinks
included) and must still lie inside the resolved folder: the check is made on
the canonical path, never on the text the client sent.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path

from raild.api.problems import ProblemError

# One path segment, no leading dot: no "..", no "/", no "\", no "%".
CAPTURE_NAME_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$"
_EXTRA_TYPES = {
    ".nef": "image/x-nikon-nef",
    ".cr2": "image/x-canon-cr2",
    ".cr3": "image/x-canon-cr3",
    ".arw": "image/x-sony-arw",
    ".dng": "image/x-adobe-dng",
    ".raf": "image/x-fuji-raf",
    ".orf": "image/x-olympus-orf",
    ".rw2": "image/x-panasonic-rw2",
}


def media_type_for(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in _EXTRA_TYPES:
        return _EXTRA_TYPES[suffix]
    guessed, _ = mimetypes.guess_type(path.name)
    return guessed or "application/octet-stream"


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


def contained_file(root: Path, name: str) -> Path:
    """`root/name`, or a 404 problem when it is missing or escapes `root`."""
    if "/" in name or "\\" in name or name in ("", ".", "..") or "\x00" in name:
        raise ProblemError(404, "no such file", code="not_found")
    path = within(root, root / name)
    if path is None:
        raise ProblemError(404, "no such file", code="not_found")
    return path
