"""Write a file (a frame, a manifest) so that a reader never sees a partial one.

The bytes go to a hidden temp file in the destination folder (same file
system, so the rename is atomic), are fsynced, then renamed over `dest`; the
folder is fsynced too so the new name survives a power cut.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

PART_SUFFIX = ".part"


def leftover_parts(folder: Path) -> list[Path]:
    """Temp files of writes a crash (SIGKILL, power cut) cut short; no finished file is one."""
    return sorted(folder.glob(".*" + PART_SUFFIX))


def write_atomic(dest: Path, data: bytes | memoryview) -> Path:
    return write_atomic_with(dest, lambda f: f.write(data))


def write_atomic_with(dest: Path, fill: Callable[[BinaryIO], object]) -> Path:
    """`fill(fileobj)` writes the content; anything it raises leaves no trace."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix="." + dest.name + ".", suffix=PART_SUFFIX, dir=dest.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            fill(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp_name, dest)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise
    _fsync_dir(dest.parent)
    return dest


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems refuse fsync on directories; the rename is still atomic
    finally:
        os.close(fd)
