"""A zip archive produced as a stream of chunks, never whole in memory.

zipfile writes into a sink that only collects bytes; after each chunk of a file
is copied the collected bytes are handed out and the sink is emptied. The sink
cannot seek, so zipfile writes sizes in data descriptors after each entry.
Entries are stored, not deflated: JPEG and raw frames do not compress, and
storing keeps the Pi's CPU free for the stack.
"""

from __future__ import annotations

import time
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path

CHUNK_BYTES = 256 * 1024


class _Sink:
    """A write-only, non-seekable file object that buffers until drained."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self._size = 0
        self._position = 0

    def write(self, data: bytes) -> int:
        if data:
            self._parts.append(bytes(data))
            self._size += len(data)
            self._position += len(data)
        return len(data)

    def tell(self) -> int:
        return self._position

    def flush(self) -> None:
        pass

    def drain(self) -> bytes:
        data = b"".join(self._parts)
        self._parts.clear()
        self._size = 0
        return data

    @property
    def buffered_bytes(self) -> int:
        return self._size


def _info(name: str, mtime_s: float) -> zipfile.ZipInfo:
    stamp = time.localtime(max(mtime_s, 315_532_800))  # zip dates start in 1980
    info = zipfile.ZipInfo(name, date_time=stamp[:6])
    info.compress_type = zipfile.ZIP_STORED
    info.external_attr = 0o644 << 16
    return info


def zip_stream(entries: Iterable[tuple[str, Path | bytes]], chunk_bytes: int = CHUNK_BYTES) -> Iterator[bytes]:
    """Yield the archive of `(name in zip, file path or bytes)` in chunks.

    Each yielded chunk is at most `chunk_bytes` plus one entry's headers, so
    memory stays flat whatever the total size.
    """
    sink = _Sink()
    with zipfile.ZipFile(sink, mode="w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:  # type: ignore[call-overload]
        for name, source in entries:
            if isinstance(source, bytes):
                zf.writestr(_info(name, time.time()), source)
                yield sink.drain()
                continue
            with source.open("rb") as src:
                info = _info(name, source.stat().st_mtime)
                # force_zip64: the size is not known to zipfile before writing.
                with zf.open(info, mode="w", force_zip64=True) as dest:
                    while True:
                        block = src.read(chunk_bytes)
                        if not block:
                            break
                        dest.write(block)
                        if sink.buffered_bytes:
                            yield sink.drain()
            if sink.buffered_bytes:
                yield sink.drain()
    tail = sink.drain()
    if tail:
        yield tail
