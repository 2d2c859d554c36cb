"""The socket side of the emulated pigpiod: one asyncio protocol per client.

Requests are 16 bytes plus an optional extension; an extension of 64 KiB or
more makes pigpiod drop the connection, and so do we. Each answer is written as
one 16-byte send, because the pigpio client reads it with a single recv(16).
"""

from __future__ import annotations

import asyncio
import logging
import socket
import struct

from raild.sim import protocol as p
from raild.sim.core import Connection, Emulator

_RESPONSE = struct.Struct("<IIII")
log = logging.getLogger("raild.sim")


class PigpiodProtocol(asyncio.Protocol):
    def __init__(self, emu: Emulator, clients: set[PigpiodProtocol]) -> None:
        self._emu = emu
        self._clients = clients
        self._buf = bytearray()
        self._transport: asyncio.Transport | None = None
        self.conn = Connection(self._write)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._clients.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self._clients.discard(self)
        self._emu.disconnected(self.conn)
        self._transport = None

    def abort(self) -> None:
        if self._transport is not None:
            self._transport.abort()

    def _write(self, data: bytes) -> None:
        if self._transport is not None and not self._transport.is_closing():
            self._transport.write(data)

    def data_received(self, data: bytes) -> None:
        self._buf += data
        while len(self._buf) >= p.REQUEST_LEN:
            cmd, p1, p2, p3 = p.REQUEST.unpack_from(self._buf)
            if p3 >= p.MAX_EXTENSION_BYTES:
                # pigpiod: "ext too large" -> closes the socket without an answer.
                self._buf.clear()
                self.abort()
                return
            if len(self._buf) < p.REQUEST_LEN + p3:
                return
            ext = bytes(self._buf[p.REQUEST_LEN : p.REQUEST_LEN + p3])
            del self._buf[: p.REQUEST_LEN + p3]
            try:
                res = self._emu.execute(self.conn, cmd, p1, p2, ext)
            except Exception:
                # An emulator fault must be loud: log it and drop the client, never answer wrongly.
                log.exception("virtual rig: command %d (%d, %d) failed", cmd, p1, p2)
                self.abort()
                return
            self._write(_RESPONSE.pack(cmd, p1, p2, res & 0xFFFFFFFF))
