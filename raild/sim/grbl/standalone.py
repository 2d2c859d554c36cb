"""`raild sim-grbl`: the grbl emulator and virtual rail as a process of their own.

A grbl client (raild with `[drive] backend = "grbl"`, hw_tests, a G-code sender)
opens the printed pty path as a serial device, or `socket://host:port`; tests read
the true position over the same JSON inspection channel as `raild sim-rig`.
"""

from __future__ import annotations

import asyncio
import signal
import sys

from raild.config import Config
from raild.sim.grbl.sim import GrblSim
from raild.sim.inspect import start_inspect_server

EX_UNAVAILABLE = 69
EX_CONFIG = 78


async def _serve(config: Config, host: str, port: int | None, pty: bool, inspect_port: int) -> int:
    sim = GrblSim(config)
    try:
        where = await sim.start(host, port or 0, pty=pty)
    except OSError as exc:
        print(f"raild sim-grbl: cannot open the serial side: {exc.strerror or exc}", file=sys.stderr)
        return EX_UNAVAILABLE
    try:
        server = await start_inspect_server(sim, host, inspect_port)
    except OSError as exc:
        await sim.stop()
        where_inspect = f"{host}:{inspect_port}"
        print(f"raild sim-grbl: cannot listen on {where_inspect} (inspection): {exc.strerror or exc}", file=sys.stderr)
        return EX_UNAVAILABLE
    actual_inspect = server.sockets[0].getsockname()[1]
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    print(f"raild sim-grbl: grbl on {where}, inspection on {host}:{actual_inspect}", flush=True)
    try:
        await stop.wait()
    finally:
        server.close()
        try:
            await asyncio.wait_for(server.wait_closed(), 2.0)
        except TimeoutError:
            pass
        await sim.stop()
    return 0


def run_sim_grbl(config: Config, host: str, port: int | None, pty: bool, inspect_port: int | None) -> int:
    """Run until SIGINT/SIGTERM; 0 on a clean stop, 69 if a port cannot be opened."""
    if pty and port is not None:
        print("raild sim-grbl: give --pty or --port, not both", file=sys.stderr)
        return EX_CONFIG
    if not pty and port is None:
        port = 2000
    if inspect_port is None:
        inspect_port = 0 if pty else (port or 0) + 1
    if inspect_port and inspect_port == port:
        print("raild sim-grbl: --inspect-port must differ from --port", file=sys.stderr)
        return EX_CONFIG
    if inspect_port > 65535:
        print("raild sim-grbl: port + 1 is not a port; pass --inspect-port", file=sys.stderr)
        return EX_CONFIG
    return asyncio.run(_serve(config, host, port, pty, inspect_port))
