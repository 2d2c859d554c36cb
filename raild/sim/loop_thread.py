"""An emulator's event loop in a thread of its own (the pigpiod rig, the grbl board).

Blocking clients (the pigpio library, pyserial) can then use the emulator from any
thread, including the daemon's own loop thread.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable


def run_loop_in_thread(
    loop: asyncio.AbstractEventLoop, name: str, setup: Callable[[asyncio.AbstractEventLoop], None]
) -> threading.Thread:
    """Run `loop` forever in a new thread, after `setup(loop)` ran on that thread (bind
    the server, schedule the first timers). Returns once setup is done; what setup raised
    is raised here instead, with the loop closed and the thread gone."""
    ready = threading.Event()
    failure: list[BaseException] = []

    def run() -> None:
        try:
            setup(loop)
        except BaseException as exc:  # reported to the starting thread
            failure.append(exc)
            ready.set()
            loop.close()
            return
        ready.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    thread = threading.Thread(target=run, name=name, daemon=True)
    thread.start()
    ready.wait()
    if failure:
        thread.join()
        raise failure[0]
    return thread
