"""`Hardware`: the one pigpio connection and a gpiozero factory on the same pigpiod.

Every blocking pigpio call made by raild's layers goes through `call()`, which
runs it on a single dedicated thread: the asyncio loop never waits on a socket,
and the calls keep their order. Two paths bypass that queue on purpose: the
e-stop and the limit-switch handler call `pi` directly from their own thread,
since pigpio's client serialises each command on its socket anyway and an
emergency must not wait behind queued work.

The connection is watched (a tick read once a second while idle, and every
failed call): a loss is reported once to the listeners, so the daemon can show
`fault`, the rail can mark its position unknown, and the driver is treated as
disabled.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import struct
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import pigpio

from raild.config import Config
from raild.hw.connect import open_pi, too_slow, where
from raild.hw.errors import HardwareUnavailable
from raild.hw.inputs import prepare_inputs
from raild.hw.pigpio_facts import ticks_diff

log = logging.getLogger("raild.hw")

T = TypeVar("T")
WATCH_PERIOD_S = 1.0
RATE_SAMPLE_S = 0.05
_LOSS_ERRORS = (OSError, struct.error, EOFError)


class Hardware:
    def __init__(
        self, config: Config, host: str, port: int, pi: pigpio.pi, executor: concurrent.futures.ThreadPoolExecutor
    ) -> None:
        self.config = config
        self.host = host
        self.port = port
        self.pi = pi
        self.factory: Any = None
        self._executor = executor
        self._listeners: list[Callable[[str], None]] = []
        self._lost: str | None = None
        self._watch: asyncio.Task[None] | None = None
        self.tick_rate_hz = 1e6  # pigpio ticks per second of wall time (the emulator may run faster)

    @classmethod
    async def connect(cls, config: Config, host: str, port: int) -> Hardware:
        """Open the connection; raises HardwareUnavailable with what to do about it."""
        executor = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="pigpio")
        loop = asyncio.get_running_loop()
        try:
            pi = await asyncio.wait_for(
                loop.run_in_executor(executor, open_pi, host, port), config.pigpio.connect_timeout_s
            )
        except TimeoutError:
            executor.shutdown(wait=False)
            raise too_slow(host, port, config.pigpio.connect_timeout_s) from None
        except HardwareUnavailable:
            executor.shutdown(wait=False)
            raise
        hw = cls(config, host, port, pi, executor)
        try:
            hw.tick_rate_hz = await hw._measure_tick_rate()
            await hw.call(prepare_inputs, pi, config.buttons)  # before the factory reads the levels
            hw.factory = await hw.call(_make_factory, host, port)
        except HardwareUnavailable:
            await hw.close()
            raise
        hw._watch = asyncio.create_task(hw._watchdog(), name="pigpio-watch")
        log.info("connected to %s (tick rate %.0f Hz)", where(host, port), hw.tick_rate_hz)
        return hw

    @property
    def connected(self) -> bool:
        return self._lost is None

    @property
    def lost_reason(self) -> str | None:
        return self._lost

    def on_lost(self, listener: Callable[[str], None]) -> None:
        """`listener(reason)` is called once, on the event loop, when the connection goes."""
        self._listeners.append(listener)

    async def call(self, fn: Callable[..., T], *args: Any) -> T:
        """Run a blocking pigpio call on the pigpio thread."""
        if self._lost is not None:
            raise HardwareUnavailable(f"pigpiod connection lost: {self._lost}")
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._executor, fn, *args)
        except _LOSS_ERRORS as exc:
            self.report_lost(f"{type(exc).__name__}: {exc}")
            raise HardwareUnavailable(f"pigpiod connection lost: {exc}") from exc

    def report_lost(self, reason: str) -> None:
        if self._lost is not None:
            return
        self._lost = reason
        log.error("pigpiod connection lost: %s", reason)
        for listener in list(self._listeners):
            try:
                listener(reason)
            except Exception:  # a listener's bug must not hide the loss from the others
                log.exception("connection-loss listener failed")

    async def tick(self) -> int:
        return await self.call(self.pi.get_current_tick)

    async def _measure_tick_rate(self) -> float:
        t0, w0 = await self.tick(), time.monotonic()
        await asyncio.sleep(RATE_SAMPLE_S)
        t1, w1 = await self.tick(), time.monotonic()
        return max(1.0, ticks_diff(t1, t0) / max(w1 - w0, 1e-6))

    async def _watchdog(self) -> None:
        while self._lost is None:
            await asyncio.sleep(WATCH_PERIOD_S)
            with contextlib.suppress(HardwareUnavailable):
                await self.tick()

    async def close(self) -> None:
        if self._watch is not None:
            self._watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch
        loop = asyncio.get_running_loop()
        if self.factory is not None:
            connection = getattr(self.factory, "_connection", None)
            with contextlib.suppress(Exception):
                await loop.run_in_executor(self._executor, _closed_cleanly, self.factory.close, connection)
        with contextlib.suppress(Exception):
            await loop.run_in_executor(self._executor, _closed_cleanly, self.pi.stop, self.pi)
        self._executor.shutdown(wait=False)


def _closed_cleanly(close: Callable[[], object], pi: object, timeout_s: float = 1.0) -> None:
    """Close, then wait for the client's notification thread to end.

    `pigpio.pi.stop()` only asks pigpiod to end the notification stream and returns; if
    whatever comes next (pigpiod going away, the process exiting) tears the socket down
    before that thread has read the end of the stream, it dies with a traceback.
    """
    notify = getattr(pi, "_notify", None)
    close()
    if notify is not None and notify is not threading.current_thread():
        notify.join(timeout_s)


def _make_factory(host: str, port: int) -> Any:
    from gpiozero.pins.pigpio import PiGPIOFactory

    try:
        return PiGPIOFactory(host=host, port=port)
    except Exception as exc:
        raise HardwareUnavailable(f"gpiozero cannot use pigpiod at {host}:{port}: {exc}") from exc
