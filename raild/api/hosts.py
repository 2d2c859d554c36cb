"""The DNS-rebinding guard: answer only to host names that are this rig's.

A page on evil.example can point its own name at the rig's LAN address; the
browser then treats the rig as part of evil.example and would let that page read
its answers. The browser still sends `Host: evil.example`, so refusing names that
are not ours (421) closes the hole. IP literals are always accepted: rebinding
needs a name, and a phone may well open the rig by its address.
"""

from __future__ import annotations

import ipaddress
import socket

from starlette.types import ASGIApp, Receive, Scope, Send

from raild.api.guards import _send_problem
from raild.config import Config


def _norm(name: str) -> str:
    return name.strip().rstrip(".").lower()


def allowed_host_names(config: Config, machine_name: str | None = None) -> frozenset[str]:
    """localhost, `<daemon.name>.local`, the machine's host name (bare and `.local`)
    and `[api] allowed_hosts`."""
    machine = _norm(machine_name if machine_name is not None else socket.gethostname())
    names = {"localhost", f"{_norm(config.daemon.name)}.local", *(_norm(h) for h in config.api.allowed_hosts)}
    if machine:
        short = machine.split(".", 1)[0]
        names |= {machine, short, f"{short}.local"}
    return frozenset(names)


def host_name(header: str) -> str:
    """The name part of a Host header value: no port, no IPv6 brackets, lower case."""
    value = header.strip()
    if value.startswith("["):
        return value[1 : value.find("]")] if "]" in value else value
    name, sep, port = value.rpartition(":")
    if sep and port.isdigit() and ":" not in name:
        value = name
    return _norm(value)


def host_allowed(header: str, allowed: frozenset[str]) -> bool:
    name = host_name(header)
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return name in allowed
    return True


class HostGuard:
    """421 for a Host that is not one of ours. Every Host header is checked; a
    request with none (HTTP/1.0) carries no name a browser could have rebound."""

    def __init__(self, app: ASGIApp, allowed: frozenset[str]) -> None:
        self.app = app
        self.allowed = allowed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            for key, raw in scope.get("headers", []):
                if key.lower() != b"host":
                    continue
                value = raw.decode("latin-1")
                if not host_allowed(value, self.allowed):
                    name = host_name(value)[:100]
                    await _send_problem(
                        send,
                        421,
                        f"raild does not answer to the host name {name!r} (a guard against DNS rebinding); "
                        f'to use this name add it to the config: [api] allowed_hosts = ["{name}"], then restart raild',
                        "misdirected_request",
                    )
                    return
        await self.app(scope, receive, send)
