"""`raild sim-rig`: the virtual rig as a process of its own.

pigpio clients (hw_tests, `raild serve` on another terminal) connect to
host:port exactly as to pigpiod; tests read the true position and the rest over
the JSON inspection channel on inspect_port (default port + 1).
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys

from raild.config import Config
from raild.sim.inspect import start_inspect_server
from raild.sim.rig import SimRig

log = logging.getLogger("raild.sim")
EX_UNAVAILABLE = 69


async def _serve(config: Config, host: str, port: int, inspect_port: int) -> int:
    rig = SimRig(config)
    try:
        await rig.start(host, port)
    except OSError as exc:
        print(f"raild sim-rig: cannot listen on {host}:{port}: {exc.strerror or exc}", file=sys.stderr)
        return EX_UNAVAILABLE
    try:
        server = await start_inspect_server(rig, host, inspect_port)
    except OSError as exc:
        await rig.stop()
        print(
            f"raild sim-rig: cannot listen on {host}:{inspect_port} (inspection): {exc.strerror or exc}",
            file=sys.stderr,
        )
        return EX_UNAVAILABLE
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    log.info(
        "virtual rig: pigpiod emulator on %s:%d, inspection on %s:%d (time scale %g)",
        host,
        rig.port,
        host,
        inspect_port,
        config.sim.time_scale,
    )
    print(f"raild sim-rig: pigpiod on {host}:{rig.port}, inspection on {host}:{inspect_port}", flush=True)
    try:
        await stop.wait()
    finally:
        server.close()
        if hasattr(server, "close_clients"):
            server.close_clients()
        try:
            await asyncio.wait_for(server.wait_closed(), 2.0)
        except TimeoutError:
            pass
        await rig.stop()
    return 0


def run_sim_rig(config: Config, host: str, port: int, inspect_port: int | None) -> int:
    """Run until SIGINT/SIGTERM; 0 on a clean stop, 69 if a port cannot be opened."""
    if inspect_port is None:
        inspect_port = port + 1
    if inspect_port == port:
        print("raild sim-rig: --inspect-port must differ from --port", file=sys.stderr)
        return 78
    if inspect_port > 65535:
        print("raild sim-rig: port + 1 is not a port; pass --inspect-port", file=sys.stderr)
        return 78
    return asyncio.run(_serve(config, host, port, inspect_port))
