"""mDNS/DNS-SD advertisement, so the phone finds the rig at http://<name>.local:<port>.

`Advertiser(config, port)` registers `<daemon.name>._http._tcp.local.` with the host
name `<daemon.name>.local.` on every non-loopback address of this machine (loopback
only when that is all there is; only `api.host` when the API is bound to one). When
the addresses change (Wi-Fi joining after boot, a DHCP renewal) it registers again
on the new ones. mDNS is a convenience: no failure here may stop the daemon, so
every error is logged and swallowed.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
from collections.abc import Callable

import ifaddr
from zeroconf import InterfaceChoice, IPVersion
from zeroconf.asyncio import AsyncServiceInfo, AsyncZeroconf

from raild import __version__
from raild.config import Config
from raild.logs import log_event

log = logging.getLogger("raild.mdns")
SERVICE_TYPE = "_http._tcp.local."
API_PATH = "/api/v1"
REFRESH_S = 30.0

AddressFinder = Callable[[], list[str]]


def host_addresses() -> list[str]:
    """Addresses the phone can reach: non-loopback IPv4 and routable IPv6.

    IPv6 link-local addresses are left out: without their interface scope a
    client cannot use them. Falls back to loopback so a lone Pi still answers
    queries from itself.
    """
    found: list[str] = []
    for adapter in ifaddr.get_adapters():
        for ip in adapter.ips:
            text = ip.ip if isinstance(ip.ip, str) else ip.ip[0]
            try:
                addr = ipaddress.ip_address(text.split("%")[0])
            except ValueError:
                continue
            if addr.is_loopback or (addr.version == 6 and addr.is_link_local):
                continue
            if str(addr) not in found:
                found.append(str(addr))
    return sorted(found, key=lambda a: (ipaddress.ip_address(a).version, a)) or ["127.0.0.1"]


class Advertiser:
    """Publishes the daemon on mDNS while it runs: `await start()`, `await close()`."""

    def __init__(
        self, config: Config, port: int, *, addresses: AddressFinder = host_addresses, refresh_s: float = REFRESH_S
    ) -> None:
        self.name = config.daemon.name
        self.enabled = config.daemon.mdns
        self.port = port
        self._find_addresses = addresses
        self._api_host = config.api.host
        self._refresh_s = refresh_s
        self._zc: AsyncZeroconf | None = None
        self._info: AsyncServiceInfo | None = None
        self._addresses: list[str] = []
        self._task: asyncio.Task[None] | None = None
        self.error: str | None = None

    @property
    def service_name(self) -> str:
        """The registered instance name (zeroconf may add a suffix on a name clash)."""
        return self._info.name if self._info else f"{self.name}.{SERVICE_TYPE}"

    def status(self) -> dict[str, object]:
        return {
            "enabled": self.enabled,
            "advertised": self._info is not None,
            "name": self.service_name,
            "host": f"{self.name}.local",
            "port": self.port,
            "addresses": list(self._addresses),
            "error": self.error,
        }

    async def start(self) -> None:
        """Returns at once: probing the name takes about a second and must not delay READY."""
        if not self.enabled:
            log_event(log, "mdns disabled in config")
            return
        self._task = asyncio.create_task(self._run(), name="mdns")

    async def wait_advertised(self, timeout_s: float) -> bool:
        """True once the first registration attempt is over and it succeeded."""
        deadline = asyncio.get_running_loop().time() + timeout_s
        while self._info is None and self.error is None:
            if asyncio.get_running_loop().time() > deadline or self._task is None:
                return False
            await asyncio.sleep(0.02)
        return self._info is not None

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self._unregister()

    def _current_addresses(self) -> list[str]:
        # An API bound to one address is reachable there only: advertise just that.
        if self._api_host not in ("0.0.0.0", "::", ""):
            try:
                return [str(ipaddress.ip_address(self._api_host))]
            except ValueError:
                pass  # a host name: fall back to every address
        try:
            return self._find_addresses()
        except Exception as exc:  # an odd interface must not stop the daemon
            log_event(log, "mdns could not list addresses", logging.WARNING, error=str(exc))
            return ["127.0.0.1"]

    async def _register(self, addresses: list[str]) -> None:
        self.error = None
        ipv6 = any(ipaddress.ip_address(a).version == 6 for a in addresses)
        loopback_only = all(ipaddress.ip_address(a).is_loopback for a in addresses)
        zc: AsyncZeroconf | None = None
        try:
            # Listen on every interface present now; new ones trigger a re-registration.
            zc = AsyncZeroconf(
                interfaces=InterfaceChoice.All,
                ip_version=IPVersion.All if ipv6 else IPVersion.V4Only,
            )
            info = AsyncServiceInfo(
                SERVICE_TYPE,
                f"{self.name}.{SERVICE_TYPE}",
                port=self.port,
                properties={"version": __version__, "path": "/", "api": API_PATH},
                server=f"{self.name}.local.",
                parsed_addresses=addresses,
            )
            registration = await zc.async_register_service(info, allow_name_change=True)
            await registration  # probing and announcing are done once this returns
        except Exception as exc:  # no multicast, no network, port 5353 refused...
            self.error = f"{type(exc).__name__}: {exc}"
            log_event(
                log,
                "mdns advertisement failed; carrying on without it",
                logging.WARNING,
                error=self.error,
                fix="open the UI by IP address, or check multicast on the LAN",
            )
            if zc is not None:
                with contextlib.suppress(Exception):
                    await zc.async_close()
            self._addresses = addresses
            return
        self._zc, self._info, self._addresses = zc, info, addresses
        log_event(
            log,
            "mdns advertised",
            name=self.service_name,
            url=f"http://{self.name}.local:{self.port}/",
            addresses=",".join(addresses),
            loopback_only=loopback_only,
        )

    async def _unregister(self) -> None:
        zc, info = self._zc, self._info
        self._zc, self._info = None, None
        if zc is None:
            return
        try:
            if info is not None:
                await zc.async_unregister_service(info)
            await zc.async_close()
        except Exception as exc:
            log_event(log, "mdns close failed", logging.WARNING, error=str(exc))

    async def _run(self) -> None:
        await self._register(self._current_addresses())
        # Sockets are bound per interface address, so new addresses need a new
        # Zeroconf instance, not just updated records.
        while True:
            await asyncio.sleep(self._refresh_s)
            addresses = self._current_addresses()
            if addresses != self._addresses or self._info is None:  # changed, or retry
                log_event(log, "mdns addresses changed", old=",".join(self._addresses), new=",".join(addresses))
                await self._unregister()
                await self._register(addresses)
