"""The serial link to a grbl board: one reader thread, writes from any thread.

pyserial opens a device path or a URL (`socket://host:port`, `rfc2217://...`).
The reader thread splits the byte stream into lines and hands each to
`on_line` as text; bytes that are not printable ASCII, and lines longer than any
grbl line, are reported to `on_garbage` instead. A read error or end of stream
calls `on_closed` once. Nothing here blocks an event loop: the owner passes
callbacks that post to its loop.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import serial

MAX_LINE_BYTES = 256
READ_TIMEOUT_S = 0.05


class LinkError(Exception):
    pass


class SerialLink:
    def __init__(
        self,
        url: str,
        baud: int,
        on_line: Callable[[str], None],
        on_garbage: Callable[[bytes], None],
        on_closed: Callable[[str], None],
    ) -> None:
        self.url = url
        self.baud = baud
        self._on_line = on_line
        self._on_garbage = on_garbage
        self._on_closed = on_closed
        self._port: serial.SerialBase | None = None
        self._write_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._closing = False
        self.bytes_in = 0
        self.bytes_out = 0

    def open(self) -> None:
        """Blocking: open the port and start the reader (call from a worker thread)."""
        try:
            port = serial.serial_for_url(self.url, baudrate=self.baud, timeout=READ_TIMEOUT_S, write_timeout=2.0)
        except (serial.SerialException, ValueError, OSError) as exc:
            raise LinkError(f"cannot open {self.url}: {exc}") from None
        self._port = port
        self._closing = False
        self._thread = threading.Thread(target=self._read_loop, name="grbl-link", daemon=True)
        self._thread.start()

    @property
    def is_open(self) -> bool:
        return self._port is not None and not self._closing

    def write(self, data: bytes) -> None:
        """Thread-safe; held only for the write itself."""
        port = self._port
        if port is None or self._closing:
            raise LinkError("the serial link is closed")
        try:
            with self._write_lock:
                port.write(data)
                self.bytes_out += len(data)
        except (serial.SerialException, OSError) as exc:
            raise LinkError(f"write to {self.url} failed: {exc}") from None

    def close(self) -> None:
        self._closing = True
        port, self._port = self._port, None
        if port is not None:
            try:
                port.close()
            except (serial.SerialException, OSError):
                pass
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(1.0)
        self._thread = None

    def _read_loop(self) -> None:
        port = self._port
        buf = bytearray()
        reason = "closed"
        try:
            while not self._closing and port is not None:
                # read(n) waits for n bytes or the timeout: ask for what is there, at least one.
                # Every serial_for_url backend has in_waiting; the stubs declare it on Serial, not SerialBase.
                chunk = port.read(max(1, port.in_waiting))  # type: ignore[attr-defined]
                if not chunk:
                    continue
                self.bytes_in += len(chunk)
                buf += chunk
                while True:
                    end = next((i for i, b in enumerate(buf) if b in (10, 13)), -1)
                    if end < 0:
                        break
                    raw = bytes(buf[:end])
                    del buf[: end + 1]
                    if raw:
                        self._deliver(raw)
                if len(buf) > MAX_LINE_BYTES:
                    self._on_garbage(bytes(buf[:64]))
                    buf.clear()
        except Exception as exc:  # any failure of the port ends the link, reported once
            reason = f"read from {self.url} failed: {exc}"
        if not self._closing:
            self._closing = True
            self._on_closed(reason)

    def _deliver(self, raw: bytes) -> None:
        if all(32 <= b < 127 for b in raw):
            self._on_line(raw.decode("ascii"))
        else:
            self._on_garbage(raw[:64])
