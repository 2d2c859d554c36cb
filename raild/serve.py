"""`raild serve`: run uvicorn with the app, speak sd_notify, stop cleanly."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

import uvicorn

from raild.api.connguard import guarded_h11
from raild.config import Config
from raild.daemon import Daemon
from raild.events import EventBus
from raild.listen import record_listen
from raild.logs import log_event
from raild.sdnotify import Notifier, watchdog_interval_s

if TYPE_CHECKING:
    from raild.mdns import Advertiser

log = logging.getLogger("raild.serve")
SHUTDOWN_TIMEOUT_S = 5.0
ACCEPT_BACKLOG = 128


class _Server(uvicorn.Server):
    """uvicorn's server, telling systemd when a stop begins."""

    def __init__(self, config: uvicorn.Config, notifier: Notifier, events: EventBus) -> None:
        super().__init__(config)
        self._notifier = notifier
        self._events = events

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if not self.should_exit:
            self._notifier.stopping()
            log_event(log, "stopping", signal=signal.Signals(sig).name)
            # Event streams never end by themselves: without this, uvicorn's graceful
            # shutdown waits its full time-out for them and then cancels them mid-write.
            # Run on the loop (we may be inside a signal handler), not here.
            try:
                asyncio.get_running_loop().call_soon_threadsafe(self._events.close_all)
            except RuntimeError:  # not called on the loop's thread
                pass
        super().handle_exit(sig, frame)

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # uvicorn re-raises the signal after a graceful stop, so the process would die
        # "killed by SIGTERM"; a clean stop on request is a success, exit status 0.
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        handled = (signal.SIGINT, signal.SIGTERM)
        original = {sig: signal.signal(sig, self.handle_exit) for sig in handled}
        try:
            yield
        finally:
            for sig, handler in original.items():
                signal.signal(sig, handler)


async def _watchdog(notifier: Notifier, interval_s: float) -> None:
    # Pinged from the event loop itself: if the loop hangs, systemd notices.
    while True:
        notifier.watchdog()
        await asyncio.sleep(interval_s)


async def _start_mdns(config: Config, sim: bool) -> Advertiser | None:
    """Advertise http://<name>.local once uvicorn listens; never fatal (see raild.mdns).
    Not for --sim: a simulated rig on a laptop must not claim the real rig's name."""
    if not config.daemon.mdns or sim:
        return None
    from raild.mdns import Advertiser

    advertiser = Advertiser(config, config.api.port)
    await advertiser.start()
    return advertiser


async def serve(config: Config, state_dir: Path, token: str, sim: bool) -> int:
    from raild.api.app import create_app

    notifier = Notifier()
    daemon = Daemon(config, state_dir, token, sim)
    await daemon.start()
    app = create_app(daemon)
    uv_config = uvicorn.Config(
        app,
        host=config.api.host,
        port=config.api.port,
        log_config=None,
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=2,
        ws="none",
        # Access guards (docs/internals.md, "Access"): heads must arrive in time,
        # connections per client and in all are capped, and X-Forwarded-For is
        # never believed (raild is not behind a proxy; a local process could
        # otherwise pose as any client to the login limit).
        http=guarded_h11(
            config.api.header_timeout_s,
            config.api.max_connections_per_client,
            # Idle connections are evicted a quarter below uvicorn's limit, so a
            # request arriving in a flood (an e-stop) is not answered 503.
            max(1, config.api.limit_concurrency * 3 // 4),
        ),
        limit_concurrency=config.api.limit_concurrency,
        # asyncio accepts up to `backlog` sockets in one go before any protocol sees
        # them; 2048 at once could use up the file table before the guard can close
        # the excess. 128 keeps a burst far below even a 1024-file limit.
        backlog=ACCEPT_BACKLOG,
        proxy_headers=False,
    )
    server = _Server(uv_config, notifier, daemon.events)
    serve_task = asyncio.create_task(server.serve())
    watchdog_task: asyncio.Task[None] | None = None
    mdns: Advertiser | None = None
    try:
        # uvicorn sets `started` once its sockets are bound but offers no event to await.
        while not server.started and not serve_task.done():  # noqa: ASYNC110
            await asyncio.sleep(0.01)
        if server.started:
            host = "localhost" if config.api.host in ("0.0.0.0", "::") else config.api.host
            url = f"http://{host}:{config.api.port}/"
            notifier.ready(f"serving {url}")
            await asyncio.to_thread(record_listen, state_dir, config.api.host, config.api.port)
            interval = watchdog_interval_s()
            if interval:
                watchdog_task = asyncio.create_task(_watchdog(notifier, interval))
            mdns = await _start_mdns(config, sim)
            log_event(
                log, "ready", url=url, sim=sim, login=f"run 'raild token --state-dir {state_dir}' for the login URL"
            )
            print(
                f"raild ready at {url}  (login URL: raild token --state-dir {state_dir})", file=sys.stderr, flush=True
            )
        await serve_task
    finally:
        if watchdog_task:
            watchdog_task.cancel()
        if mdns is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(mdns.close(), 1.0)
        try:
            await asyncio.wait_for(daemon.stop(), SHUTDOWN_TIMEOUT_S)
        except TimeoutError:
            log_event(log, "shutdown timed out", logging.ERROR)
        notifier.close()
    if not server.started:
        log_event(log, "could not listen", logging.ERROR, host=config.api.host, port=config.api.port)
        return 1
    return 0


def run_serve(config: Config, state_dir: Path, token: str, sim: bool) -> int:
    with contextlib.suppress(KeyboardInterrupt):
        return asyncio.run(serve(config, state_dir, token, sim))
    return 0
