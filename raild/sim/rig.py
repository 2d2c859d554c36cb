"""`SimRig`: the pigpiod emulator and virtual rail, served from a thread of its own.

The asyncio server runs on its own event loop in its own thread, so blocking
pigpio clients work from any thread, the caller's event-loop thread included.
While a wave transmits, the timeline is pumped about every millisecond (or at
the next edge if that is later) so inputs the carriage changes, such as limit
switches, reach clients within a few ms; when idle nothing runs but the 60 s
keep-alive.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import threading
from collections.abc import Callable
from typing import Any

from raild.config import Config
from raild.sim.buttons import VirtualButtons
from raild.sim.clock import EmuClock
from raild.sim.core import Emulator, Hooks
from raild.sim.loop_thread import run_loop_in_thread
from raild.sim.rail import Trigger, VirtualRail
from raild.sim.server import PigpiodProtocol

PUMP_PERIOD_S = 0.001
SWITCH_INTERVAL_S = 0.0005


class SimRig:
    def __init__(self, config: Config | None = None) -> None:
        self.config = config or Config()
        hooks = Hooks()
        hooks.schedule_at = self._schedule_at
        hooks.request_flush = self._request_flush
        hooks.kick = self._kick
        self.emu = Emulator(self.config, hooks)
        self.host = "127.0.0.1"
        self.port = 0
        self.keepalive_s = 60.0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.AbstractServer | None = None
        self._clients: set[PigpiodProtocol] = set()
        self._flush_pending = False
        self._pump_handle: asyncio.TimerHandle | None = None
        self._flush_lock = threading.Lock()
        self.buttons = VirtualButtons(self.config.buttons, self.drive_input)  # the [buttons] panel

    # ----- public -----
    @property
    def rail(self) -> VirtualRail:
        return self.emu.rail

    @property
    def clock(self) -> EmuClock:
        return self.emu.clock

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def tick(self) -> int:
        with self.emu.synced() as now_us:
            return self.emu.clock.tick_at(now_us)

    def record_capture(self, label: str) -> Trigger:
        return self.emu.rail.record_capture(label)

    def drive_input(self, gpio: int, level: int | None) -> int:
        """Drive an input pin from outside (a button, a sensor); None lets go of it.
        Returns the emulated µs of the change (the clock of `pulse_log` records)."""
        if not 0 <= gpio <= 53:
            raise ValueError(f"gpio {gpio} does not exist (0-53)")
        if level not in (0, 1, None):
            raise ValueError(f"level must be 0, 1 or None (let go), not {level!r}")
        with self.emu.synced() as now_us:
            self.emu.gpio.drive(gpio, level, now_us)
        return now_us

    def level(self, gpio: int) -> int:
        """The pin's level as the hardware shows it."""
        with self.emu.synced():
            return self.emu.gpio.level(gpio)

    def inject_disconnect(self) -> None:
        """Drop every client connection at once (as if pigpiod restarted its sockets)."""
        loop = self._loop
        if loop is None:
            return
        done = threading.Event()

        def drop() -> None:
            for client in list(self._clients):
                client.abort()
            done.set()

        if threading.current_thread() is self._thread:
            drop()
            return
        loop.call_soon_threadsafe(drop)
        done.wait(2.0)

    def status(self) -> dict[str, Any]:
        with self.emu.synced() as now_us:
            return {
                "host": self.host,
                "port": self.port,
                "tick": self.emu.clock.tick_at(now_us),
                "time_scale": self.emu.clock.time_scale,
                "clients": len(self._clients),
                "wave_busy": self.emu.engine.busy,
                "wave_playback_lagged": self.emu.engine.lag_count,
                "rail": self.emu.rail.status(),
            }

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        await asyncio.to_thread(self.start_blocking, host, port)

    async def stop(self) -> None:
        await asyncio.to_thread(self.stop_blocking)

    def start_blocking(self, host: str = "127.0.0.1", port: int = 0) -> None:
        if self.running:
            raise RuntimeError("the virtual rig is already running")
        # The emulator shares the interpreter with its client (a Pi runs pigpiod as its own
        # process): hand the GIL over more often than every 5 ms so neither waits a whole
        # switch interval for the other, as a streamed move would otherwise see as host lag.
        sys.setswitchinterval(min(sys.getswitchinterval(), SWITCH_INTERVAL_S))

        def setup(loop: asyncio.AbstractEventLoop) -> None:
            self._thread = threading.current_thread()  # known before any timer of ours runs
            self._server = loop.run_until_complete(
                loop.create_server(lambda: PigpiodProtocol(self.emu, self._clients), host, port, reuse_address=True)
            )
            self.host = host
            self.port = self._server.sockets[0].getsockname()[1]
            loop.call_later(self.keepalive_s, self._keepalive)

        self._loop = asyncio.new_event_loop()
        try:
            self._thread = run_loop_in_thread(self._loop, "sim-rig", setup)
        except BaseException:
            self._loop = self._thread = None
            raise

    def stop_blocking(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return

        async def shutdown() -> None:
            if self._server is not None:
                self._server.close()
            for client in list(self._clients):
                client.abort()
            if self._server is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(self._server.wait_closed(), 1.0)
            loop.stop()

        loop.call_soon_threadsafe(lambda: loop.create_task(shutdown()))
        thread.join(5.0)
        self._loop = None
        self._thread = None
        self._server = None

    # ----- loop-side machinery -----
    def _call_soon(self, fn: Callable[[], None]) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(fn)

    def _request_flush(self) -> None:
        with self._flush_lock:
            if self._flush_pending:
                return
            self._flush_pending = True
        self._call_soon(self._flush)

    def _flush(self) -> None:
        with self._flush_lock:
            self._flush_pending = False
        with self.emu.lock:
            outputs = self.emu.notifier.take_output()
        for sink, data in outputs:
            sink(data)

    def _kick(self) -> None:
        self._call_soon(self._pump)

    def _pump(self) -> None:
        # Called on the loop thread; (re)arms a single timer while something transmits.
        if self._pump_handle is not None:
            self._pump_handle.cancel()
            self._pump_handle = None
        if self._loop is None:
            return
        with self.emu.synced() as now_us:
            busy = self.emu.engine.busy
            next_us = self.emu.engine.next_event_us
            lagging = self.emu.engine.lagging
        if not busy:
            return
        if lagging:  # behind the clock: keep playing, but let other callbacks in between
            self._pump_handle = self._loop.call_later(0, self._pump)
            return
        delay_s = PUMP_PERIOD_S
        if next_us is not None:
            delay_s = max(delay_s, self.emu.clock.real_delay_s(next_us - now_us))
        self._pump_handle = self._loop.call_later(delay_s, self._pump)

    def _schedule_at(self, emu_us: int, fn: Callable[[], None]) -> None:
        when = self.emu.clock.monotonic_at(emu_us)

        def fire() -> None:
            with self.emu.synced():
                fn()

        def arm() -> None:
            if self._loop is not None:
                self._loop.call_at(when, fire)

        self._call_soon(arm)

    def _keepalive(self) -> None:
        if self._loop is None:
            return
        with self.emu.synced() as now_us:
            self.emu.notifier.keepalive(now_us, self.keepalive_s)
        self._loop.call_later(self.keepalive_s, self._keepalive)
