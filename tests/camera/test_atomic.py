"""Frames appear whole or not at all."""

from __future__ import annotations

import os
from pathlib import Path
from typing import BinaryIO

import pytest

from raild.atomic import write_atomic, write_atomic_with


def test_no_partial_file_is_ever_visible(tmp_path: Path) -> None:
    dest = tmp_path / "frames" / "frame_0001.jpg"
    seen: list[bool] = []

    def fill(f: BinaryIO) -> None:
        f.write(b"a" * 100_000)
        f.flush()
        seen.append(dest.exists())  # half written: the real name must not exist yet
        f.write(b"b" * 100_000)

    write_atomic_with(dest, fill)
    assert seen == [False]
    assert dest.read_bytes() == b"a" * 100_000 + b"b" * 100_000
    assert os.listdir(dest.parent) == ["frame_0001.jpg"]  # no temp file left behind


def test_replacing_keeps_the_old_frame_until_the_new_one_is_complete(tmp_path: Path) -> None:
    dest = write_atomic(tmp_path / "f.jpg", b"old")
    during: list[bytes] = []
    write_atomic_with(dest, lambda f: (f.write(b"new"), during.append(dest.read_bytes())))
    assert during == [b"old"] and dest.read_bytes() == b"new"


def test_a_failed_write_leaves_nothing(tmp_path: Path) -> None:
    def broken(f: BinaryIO) -> None:
        f.write(b"partial")
        raise OSError("transfer cut off")

    with pytest.raises(OSError, match="cut off"):
        write_atomic_with(tmp_path / "f.jpg", broken)
    assert os.listdir(tmp_path) == []
