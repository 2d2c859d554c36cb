"""Load for the end-to-end benchmark: status requests at a fixed rate, and event-stream
clients that read everything they are sent."""

from __future__ import annotations

import socket
import threading
import time

import httpx


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


class StatusLoad:
    """`rate_hz` GET /status a second, spread over `threads` keep-alive connections on a
    fixed schedule (a late request is sent at once, not skipped: the load never eases)."""

    def __init__(self, base_url: str, headers: dict[str, str], rate_hz: float, threads: int = 4) -> None:
        self.latencies_ms: list[float] = []
        self.errors = 0
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._period_s = threads / rate_hz
        self._threads = [
            threading.Thread(target=self._run, args=(base_url, headers, i / rate_hz), daemon=True)
            for i in range(threads)
        ]
        self.started_s = time.monotonic()
        self.stopped_s = self.started_s
        for t in self._threads:
            t.start()

    def _run(self, base_url: str, headers: dict[str, str], phase_s: float) -> None:
        with httpx.Client(base_url=base_url, headers=headers, timeout=10) as client:
            next_s = time.monotonic() + phase_s
            while not self._stop.is_set():
                delay = next_s - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                t0 = time.perf_counter()
                try:
                    ok = client.get("/status").status_code == 200
                except httpx.HTTPError:
                    ok = False
                elapsed_ms = (time.perf_counter() - t0) * 1000
                with self._lock:
                    if ok:
                        self.latencies_ms.append(elapsed_ms)
                    else:
                        self.errors += 1
                next_s += self._period_s

    def stop(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(10)
        self.stopped_s = time.monotonic()

    @property
    def achieved_hz(self) -> float:
        return len(self.latencies_ms) / max(1e-9, self.stopped_s - self.started_s)


class EventReaders:
    """`count` raw-socket clients on GET /events, each read by its own thread."""

    def __init__(self, host: str, port: int, token: str, count: int) -> None:
        self.bytes_read = 0
        self._lock = threading.Lock()
        self._socks: list[socket.socket] = []
        request = (f"GET /api/v1/events HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n\r\n").encode()
        for _ in range(count):
            sock = socket.create_connection((host, port), timeout=5)
            sock.sendall(request)
            self._socks.append(sock)
        self._threads = [threading.Thread(target=self._read, args=(s,), daemon=True) for s in self._socks]
        for t in self._threads:
            t.start()

    def _read(self, sock: socket.socket) -> None:
        sock.settimeout(0.5)
        while True:
            try:
                data = sock.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                return
            if not data:
                return
            with self._lock:
                self.bytes_read += len(data)

    def close(self) -> None:
        for s in self._socks:
            s.close()
        for t in self._threads:
            t.join(5)
