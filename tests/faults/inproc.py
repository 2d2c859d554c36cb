"""The daemon exactly as `raild serve --sim` builds it (Daemon, app, uvicorn on a real
loopback socket), but in a thread of this test process with its own event loop, so a
test can also look inside: the event bus's subscribers and the virtual rail's true
position. Clients still reach it only over TCP."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from raild.api.app import create_app
from raild.config import validate_data
from raild.daemon import Daemon
from tests.faults.harness import AUTH, TOKEN, free_port, merged, wait_for
from tests.support import rig


@dataclass
class Served:
    daemon: Daemon
    port: int
    loop: asyncio.AbstractEventLoop

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client(self, **kw: Any) -> httpx.Client:
        return httpx.Client(base_url=f"{self.base_url}/api/v1", headers=AUTH, timeout=15, **kw)

    def call(self, fn: Any) -> Any:
        """Run `fn()` on the daemon's loop and return its result (reads stay consistent)."""

        async def run() -> Any:
            return fn()

        return asyncio.run_coroutine_threadsafe(run(), self.loop).result(10)

    @property
    def true_position_steps(self) -> int:
        return int(self.daemon.sim.rail.true_position_steps)


@contextmanager
def served_daemon(tmp_path: Path, *overrides: dict[str, dict[str, Any]]) -> Iterator[Served]:
    config = validate_data(merged(*overrides), "test")
    state_dir = tmp_path / "state"
    state_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    loop = asyncio.new_event_loop()
    started = threading.Event()
    box: dict[str, Any] = {}

    async def main() -> None:
        daemon = Daemon(config, state_dir, TOKEN, sim=True)
        await daemon.start()
        server = uvicorn.Server(
            uvicorn.Config(
                create_app(daemon),
                host="127.0.0.1",
                port=port,
                log_config=None,
                access_log=False,
                lifespan="off",
                ws="none",
                timeout_graceful_shutdown=2,
            )
        )
        box.update(daemon=daemon, server=server)
        task = asyncio.create_task(server.serve())
        while not server.started and not task.done():  # noqa: ASYNC110 - uvicorn offers no event
            await asyncio.sleep(0.01)
        started.set()
        try:
            await task
        finally:
            await daemon.stop()

    def run() -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(main())
        except BaseException as exc:  # reported to the test thread
            box["error"] = exc
            started.set()

    thread = threading.Thread(target=run, name="served-daemon", daemon=True)
    thread.start()
    started.wait(30)
    if "error" in box:
        raise box["error"]
    served = Served(box["daemon"], port, loop)
    with served.client() as c:
        wait_for(lambda: c.get("/status").json().get("state") == "idle", 30, "the rail")
    try:
        yield served
    finally:
        server = box["server"]
        loop.call_soon_threadsafe(setattr, server, "should_exit", True)
        thread.join(20)
        loop.close()


def home(api: httpx.Client, timeout_s: float = 60) -> dict[str, Any]:
    """Home through the API and wait; a failed homing says why instead of timing out."""
    return rig.home(api, timeout_s=timeout_s)
