"""`GrblSim`: the grbl emulator and the virtual rail, served from a thread of its own.

One asyncio loop in its own thread owns the serial side: a TCP server (a client
opens `socket://host:port`, as it would reach a board behind ser2net) or a
pseudo-terminal (a client opens the pty's path as a serial device). Emulated
time runs on its own `EmuClock`; while anything moves the loop advances the
machine every millisecond, so switches and answers come within a few ms.
Inspection (true position, switches, lost steps) is thread-safe: each look
brings the machine up to the present first.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
import tty
from collections.abc import Iterator
from typing import Any

from raild.config import Config
from raild.sim.clock import EmuClock
from raild.sim.gpio import GpioBank
from raild.sim.grbl import settings as eeprom
from raild.sim.grbl.machine import DIR_SETUP_US, GrblMachine
from raild.sim.loop_thread import run_loop_in_thread
from raild.sim.rail import Trigger, VirtualRail

BUSY_PERIOD_S = 0.001
IDLE_PERIOD_S = 0.05


class _Client(asyncio.Protocol):
    def __init__(self, sim: GrblSim) -> None:
        self.sim = sim
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.sim._clients.add(self)
        if self.sim.reset_on_connect:
            self.sim._power_cycle()

    def data_received(self, data: bytes) -> None:
        self.sim._feed(data)

    def connection_lost(self, exc: Exception | None) -> None:
        self.sim._clients.discard(self)


class GrblSim:
    def __init__(
        self,
        config: Config | None = None,
        settings: dict[int, float] | None = None,
        reset_on_connect: bool = False,
    ) -> None:
        self.config = config or Config()
        self.axis = self.config.grbl.axis
        self.reset_on_connect = reset_on_connect  # an Uno resets when the port opens (DTR)
        self.clock = EmuClock(self.config.sim.tick_offset_us, self.config.sim.time_scale)
        self.lock = threading.RLock()
        self._in_machine = False
        self.gpio = GpioBank()
        self.rail = VirtualRail(self.config, self.gpio, self.clock, self.synced)
        pins = self.config.pins
        self._step_bit = 1 << pins.step
        self._dir_bit = 1 << pins.dir
        self._en_bit = (1 << pins.enable) if pins.enable else 0
        self._levels = self._en_level(True)
        self._last_edge_us = 0
        self._values = eeprom.initial_settings(self.config, self.axis, settings)
        self.coolant_on = threading.Event()  # the flood pin is high (tests wait on it)
        self._out = bytearray()
        self.machine = self._new_machine()
        self.url = ""
        self.host = "127.0.0.1"
        self.port = 0
        self.pty_path: str | None = None
        self._pty_fds: tuple[int, int] | None = None
        self._clients: set[_Client] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.AbstractServer | None = None
        self._flush_pending = False

    # ----- machine access (all under the lock) -----
    def _new_machine(self) -> GrblMachine:
        machine = GrblMachine(
            self._values, self.axis, self._out.extend, self._step_out, self._limit_input, self._coolant_edge
        )
        machine.power_up()
        return machine

    @contextlib.contextmanager
    def synced(self) -> Iterator[int]:
        """Lock, bring the machine up to now, yield the emulated µs."""
        with self.lock:
            now_us = self.clock.now_us()
            if not self._in_machine:
                self._in_machine = True
                try:
                    self.machine.advance(now_us)
                finally:
                    self._in_machine = False
            yield now_us
        self._schedule_flush()

    def _feed(self, data: bytes) -> None:
        with self.lock:
            self._in_machine = True
            try:
                self.machine.feed(data, self.clock.now_us())
            finally:
                self._in_machine = False
        self._flush()

    def _power_cycle(self) -> None:
        """Power-up: the EEPROM stays, everything else starts again (position 0)."""
        with self.lock:
            self.machine = self._new_machine()
        self._flush()

    def _step_out(self, t_us: int, direction: int, enabled: bool) -> None:
        levels = (self._dir_bit if direction > 0 else 0) | self._en_level(enabled)
        t_us = max(t_us, self._last_edge_us + 1)
        changed = levels ^ self._levels
        if changed:
            self.rail.on_gpio(changed, levels, max(self._last_edge_us, t_us - DIR_SETUP_US))
        self.rail.on_gpio(self._step_bit, levels | self._step_bit, t_us)
        pulse_us = max(1, int(self._values[0]))
        self.rail.on_gpio(self._step_bit, levels, t_us + pulse_us)
        self._levels = levels
        self._last_edge_us = t_us + pulse_us

    def _coolant_edge(self, t_us: float, on: bool) -> None:
        """The flood coolant pin (M8/M9) changed: a wired shutter on it (docs/hardware.md) sees
        a press or release, recorded as a "shutter" trigger at the carriage's true position."""
        self.rail.record_output_locked("shutter", 1 if on else 0, int(t_us), "grbl coolant")
        if on:
            self.coolant_on.set()
        else:
            self.coolant_on.clear()

    def _en_level(self, enabled: bool) -> int:
        if not self._en_bit:
            return 0
        high = enabled != self.config.pins.enable_active_low
        return self._en_bit if high else 0

    def _limit_input(self) -> bool:
        with self.lock:  # both switches on grbl's one limit input of the axis
            return self.rail.limit_tripped_locked()

    # ----- output -----
    def _schedule_flush(self) -> None:
        loop = self._loop
        if not self._out or loop is None or loop.is_closed():
            return
        if threading.current_thread() is self._thread:
            self._flush()
            return
        if not self._flush_pending:
            self._flush_pending = True
            loop.call_soon_threadsafe(self._flush)

    def _flush(self) -> None:
        self._flush_pending = False
        with self.lock:
            data = bytes(self._out)
            self._out.clear()
        if not data:
            return
        for client in list(self._clients):
            if client.transport is not None:
                client.transport.write(data)
        if self._pty_fds is not None:
            with contextlib.suppress(OSError):  # nobody reading and the pty full: lost, as on a wire
                os.write(self._pty_fds[0], data)

    # ----- inspection -----
    def record_capture(self, label: str) -> Trigger:
        return self.rail.record_capture(label)

    def machine_status(self) -> dict[str, Any]:
        with self.synced() as now_us:
            m = self.machine
            state: str = m.state
            if state == "Hold":
                state = "Hold:0" if m.stepper.hold_complete else "Hold:1"
            return {
                "state": state,
                "critical": m.critical,
                "mpos_steps": m.stepper.position,
                "planner_blocks": len(m.stepper.queue),
                "rx_bytes": len(m.rx),
                "rx_overflow_bytes": m.rx_overflow_bytes,
                "lines_executed": m.lines_executed,
                "coolant_flood": m.flood,
                "speed_steps_s": m.stepper.speed(now_us),
                "settings": {str(k): v for k, v in sorted(m.settings.items())},
            }

    def status(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "pty": self.pty_path,
            "clients": len(self._clients),
            "time_scale": self.clock.time_scale,
            "grbl": self.machine_status(),
            "rail": self.rail.status(),
        }

    def inject_output(self, data: bytes) -> None:
        """Send raw bytes to the clients as if the board had (line noise, a glitch)."""
        with self.lock:
            self._out.extend(data)
        self._schedule_flush()

    def inject_disconnect(self) -> None:
        """Drop every TCP client at once (a cable pulled, ser2net restarted)."""
        loop = self._loop
        if loop is None:
            return
        done = threading.Event()

        def drop() -> None:
            for client in list(self._clients):
                if client.transport is not None:
                    client.transport.abort()
            done.set()

        if threading.current_thread() is self._thread:
            drop()
            return
        loop.call_soon_threadsafe(drop)
        done.wait(2.0)

    def inject_reset(self) -> None:
        """The board resets by itself (a power dip, its reset button): a new banner, position 0."""
        self._run_on_loop(self._power_cycle)

    def unplug(self) -> None:
        """The serial end goes away (USB unplugged): clients dropped, nobody can connect."""

        async def down() -> None:
            if self._server is not None:
                self._server.close()
                self._server = None
            for client in list(self._clients):
                if client.transport is not None:
                    client.transport.abort()

        self._run_on_loop(down)

    def replug(self, power_cycle: bool = True) -> None:
        """The serial end comes back at the same address; an Uno powered over USB starts again."""
        if self.port == 0:
            raise RuntimeError("replug() is for the TCP serial end (a pty cannot come back at its path)")

        async def up() -> None:
            if power_cycle:
                self._power_cycle()
            if self._server is None:
                self._server = await asyncio.get_running_loop().create_server(
                    lambda: _Client(self), self.host, self.port, reuse_address=True
                )

        self._run_on_loop(up)

    def _run_on_loop(self, fn: Any) -> None:
        """Run fn (plain or a coroutine function) on the emulator's loop and wait for it."""
        loop = self._loop
        if loop is None:
            raise RuntimeError("the grbl emulator is not running")
        if threading.current_thread() is self._thread:
            raise RuntimeError("call from outside the emulator's thread")

        async def call() -> None:
            result = fn()
            if asyncio.iscoroutine(result):
                await result

        asyncio.run_coroutine_threadsafe(call(), loop).result(5.0)

    # ----- life cycle -----
    def start_blocking(self, host: str = "127.0.0.1", port: int = 0, pty: bool = False) -> str:
        """Serve on TCP (or a pty); returns what a client opens (URL or device path)."""
        if self._thread is not None:
            raise RuntimeError("the grbl emulator is already running")

        def setup(loop: asyncio.AbstractEventLoop) -> None:
            self._thread = threading.current_thread()  # known before any timer of ours runs
            if pty:
                self._open_pty(loop)
            else:
                self._server = loop.run_until_complete(
                    loop.create_server(lambda: _Client(self), host, port, reuse_address=True)
                )
                self.host = host
                self.port = self._server.sockets[0].getsockname()[1]
                self.url = f"socket://{host}:{self.port}"
            loop.call_soon(self._tick)

        self._loop = asyncio.new_event_loop()
        try:
            self._thread = run_loop_in_thread(self._loop, "sim-grbl", setup)
        except BaseException:
            self._loop = self._thread = None
            raise
        return self.url

    def _open_pty(self, loop: asyncio.AbstractEventLoop) -> None:
        master, slave = os.openpty()
        tty.setraw(slave)  # no echo, no line editing: bytes pass as on a wire
        os.set_blocking(master, False)
        self._pty_fds = (master, slave)  # the slave stays open so the master never sees EIO
        self.pty_path = os.ttyname(slave)
        self.url = self.pty_path

        def readable() -> None:
            try:
                data = os.read(master, 4096)
            except BlockingIOError:
                return
            except OSError:
                return
            if data:
                self._feed(data)

        loop.add_reader(master, readable)
        with self.lock:  # the banner a client finds waiting is the power-up one
            self._out.clear()

    def _tick(self) -> None:
        loop = self._loop
        if loop is None:
            return
        with self.synced():
            busy = self.machine.stepper.moving or self.machine.state == "Home" or self.machine.pending is not None
        self._flush()
        loop.call_later(BUSY_PERIOD_S if busy else IDLE_PERIOD_S, self._tick)

    def stop_blocking(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return

        async def shutdown() -> None:
            if self._server is not None:
                self._server.close()
            for client in list(self._clients):
                if client.transport is not None:
                    client.transport.abort()
            if self._pty_fds is not None:
                loop.remove_reader(self._pty_fds[0])
                for fd in self._pty_fds:
                    with contextlib.suppress(OSError):
                        os.close(fd)
                self._pty_fds = None
            loop.stop()

        loop.call_soon_threadsafe(lambda: loop.create_task(shutdown()))
        thread.join(5.0)
        self._loop = None
        self._thread = None
        self._server = None

    async def start(self, host: str = "127.0.0.1", port: int = 0, pty: bool = False) -> str:
        return await asyncio.to_thread(self.start_blocking, host, port, pty)

    async def stop(self) -> None:
        await asyncio.to_thread(self.stop_blocking)
