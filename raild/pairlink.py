"""`raild token`: the token for curl, and a login link for a phone.

The link carries a single-use pairing code (raild.pairing), never the token: a URL
ends up in browser history, screenshots and chat messages. Its host is one a phone
on the same network can open and its port the one raild really listens on.
"""

from __future__ import annotations

import ipaddress
import socket
import sys
from pathlib import Path
from typing import TextIO

from raild.config import Config
from raild.listen import running_listen
from raild.pairing import PAIR_LIFETIME_S, PairingCodes

_WILDCARDS = ("", "0.0.0.0", "::")
# TEST-NET-1: connecting a UDP socket sends nothing, it only picks the route's source address.
_PROBE = ("192.0.2.1", 9)


def lan_address() -> str | None:
    """The address this machine would use towards the LAN, if it has one."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(_PROBE)
            address = str(s.getsockname()[0])
    except OSError:
        return None
    ip = ipaddress.ip_address(address)
    return None if ip.is_loopback or ip.is_unspecified else address


def phone_host(listen_host: str, daemon_name: str) -> str:
    """A specific listen address as it is; for a wildcard, the LAN address, else the mDNS name."""
    host = listen_host if listen_host not in _WILDCARDS else (lan_address() or f"{daemon_name}.local")
    return f"[{host}]" if ":" in host else host


def login_url(config: Config, state_dir: Path, host: str | None, port: int | None, code: str) -> str:
    running = running_listen(state_dir)
    real_port = port or (running.port if running else config.api.port)
    listen_host = running.host if running else config.api.host
    return f"http://{host or phone_host(listen_host, config.daemon.name)}:{real_port}/#pair={code}"


def print_token(
    config: Config,
    state_dir: Path,
    token: str,
    host: str | None = None,
    port: int | None = None,
    qr: bool | None = None,
    out: TextIO = sys.stdout,
) -> None:
    code = PairingCodes(state_dir).issue()
    url = login_url(config, state_dir, host, port, code)
    print(token, file=out)
    print(url, file=out)
    if qr if qr is not None else out.isatty():
        import segno

        segno.make(url, error="m").terminal(out=out, compact=True, border=2)
    minutes = PAIR_LIFETIME_S // 60
    print(
        f"The link logs in one phone or browser, once, within {minutes} minutes; run 'raild token' again for another.",
        file=sys.stderr,
    )
