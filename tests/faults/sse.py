"""Many event-stream clients on raw sockets, read by one selector thread.

Raw sockets let a test do what phones on Wi-Fi do: vanish with a reset, close
half-way, or stop reading while still connected. Each client parses the
`text/event-stream` it receives into (event, data) pairs.
"""

from __future__ import annotations

import json
import selectors
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from typing import Any


@dataclass
class SseClient:
    number: int
    sock: socket.socket
    buffer: bytes = b""
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    headers_done: bool = False
    status_line: str = ""
    gone: bool = False  # we closed it on purpose
    ended: bool = False  # the server closed it
    reading: bool = True

    def feed(self, data: bytes) -> None:
        self.buffer += data
        if not self.headers_done:
            head, sep, rest = self.buffer.partition(b"\r\n\r\n")
            if not sep:
                return
            self.status_line = head.split(b"\r\n", 1)[0].decode()
            self.headers_done = True
            self.buffer = rest
        # Chunked transfer encoding: strip the chunk framing, keep the payload.
        while True:
            size_line, sep, rest = self.buffer.partition(b"\r\n")
            if not sep:
                return
            size = int(size_line.split(b";")[0], 16)
            if len(rest) < size + 2:
                return
            self._payload(rest[:size])
            self.buffer = rest[size + 2 :]
            if size == 0:
                self.ended = True
                return

    def _payload(self, chunk: bytes) -> None:
        self._text = getattr(self, "_text", "") + chunk.decode()
        while "\n\n" in self._text:
            block, self._text = self._text.split("\n\n", 1)
            name, data = "message", []
            for line in block.split("\n"):
                if line.startswith("event:"):
                    name = line[6:].strip()
                elif line.startswith("data:"):
                    data.append(line[5:].strip())
            if data:
                self.events.append((name, json.loads("\n".join(data))))

    def of(self, name: str) -> list[dict[str, Any]]:
        return [d for n, d in self.events if n == name]


class SseCrowd:
    def __init__(self, host: str, port: int, token: str, count: int) -> None:
        self._sel = selectors.DefaultSelector()
        self._lock = threading.Lock()
        self.clients: list[SseClient] = []
        request = (
            f"GET /api/v1/events HTTP/1.1\r\nHost: {host}:{port}\r\n"
            f"Authorization: Bearer {token}\r\nAccept: text/event-stream\r\n\r\n"
        ).encode()
        for n in range(count):
            sock = socket.create_connection((host, port), timeout=5)
            sock.sendall(request)
            sock.setblocking(False)
            client = SseClient(n, sock)
            self.clients.append(client)
            self._sel.register(sock, selectors.EVENT_READ, client)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sse-crowd", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                ready = self._sel.select(0.05) if self._sel.get_map() else []
                for key, _ in ready:
                    client: SseClient = key.data
                    try:
                        data = client.sock.recv(65536)
                    except (BlockingIOError, InterruptedError):
                        continue
                    except OSError:
                        data = b""
                    if not data:
                        client.ended = True
                        self._sel.unregister(client.sock)
                        continue
                    client.feed(data)
            if not ready:
                time.sleep(0.01)

    def wait(self, check: Any, timeout_s: float, what: str) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with self._lock:
                if check():
                    return
            time.sleep(0.02)
        raise AssertionError(f"timed out waiting for {what}")

    def vanish(self, client: SseClient, reset: bool) -> None:
        """Drop off the network: a reset (RST, as a phone leaving Wi-Fi range) or a close."""
        with self._lock:
            if client.reading:
                self._sel.unregister(client.sock)
            if reset:
                client.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            client.sock.close()
            client.gone = True
            client.reading = False

    def stall(self, client: SseClient) -> None:
        """Stay connected but stop reading (a frozen browser tab)."""
        with self._lock:
            self._sel.unregister(client.sock)
            client.reading = False

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        for client in self.clients:
            if not client.gone:
                client.sock.close()
        self._sel.close()
