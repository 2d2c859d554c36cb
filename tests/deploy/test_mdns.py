"""mDNS: a real zeroconf browser on this machine finds the daemon's advertisement."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from zeroconf import ServiceStateChange, Zeroconf
from zeroconf.asyncio import AsyncServiceBrowser, AsyncServiceInfo, AsyncZeroconf

from raild import __version__, mdns
from raild.config import Config
from raild.mdns import SERVICE_TYPE, Advertiser, host_addresses

WAIT_S = 10.0
IFF_UP, IFF_LOOPBACK, IFF_MULTICAST = 0x1, 0x8, 0x1000


def _multicast_interface() -> bool:
    """An interface that is up, not loopback and multicast-capable (mDNS needs one)."""
    for flags in Path("/sys/class/net").glob("*/flags"):
        try:
            value = int(flags.read_text(), 16)
        except (OSError, ValueError):
            continue
        if value & IFF_UP and value & IFF_MULTICAST and not value & IFF_LOOPBACK:
            return True
    return False


needs_multicast = pytest.mark.skipif(
    not _multicast_interface(), reason="no multicast-capable network interface is up here"
)


def _config(name: str, enabled: bool = True) -> Config:
    return Config.model_validate({"daemon": {"name": name, "mdns": enabled}})


def _unique_name() -> str:
    # Several test runs may share a LAN; a unique name keeps them apart.
    return f"raild-test-{uuid.uuid4().hex[:8]}"


@pytest.fixture
async def browser_zc() -> AsyncIterator[AsyncZeroconf]:
    zc = AsyncZeroconf()
    yield zc
    await zc.async_close()


async def _browse_for(zc: AsyncZeroconf, wanted: str) -> bool:
    seen = asyncio.Event()

    # zeroconf calls handlers with these keyword names.
    def on_change(zeroconf: Zeroconf, service_type: str, name: str, state_change: ServiceStateChange) -> None:
        if name == f"{wanted}.{SERVICE_TYPE}" and state_change is ServiceStateChange.Added:
            seen.set()

    browser = AsyncServiceBrowser(zc.zeroconf, [SERVICE_TYPE], handlers=[on_change])
    try:
        await asyncio.wait_for(seen.wait(), WAIT_S)
        return True
    except TimeoutError:
        return False
    finally:
        await browser.async_cancel()


async def _resolve(zc: AsyncZeroconf, name: str) -> AsyncServiceInfo | None:
    info = AsyncServiceInfo(SERVICE_TYPE, f"{name}.{SERVICE_TYPE}")
    return info if await info.async_request(zc.zeroconf, 3000) else None


@needs_multicast
async def test_browser_sees_the_advertisement(browser_zc: AsyncZeroconf) -> None:
    name = _unique_name()
    adv = Advertiser(_config(name), 8123)
    await adv.start()
    try:
        assert await adv.wait_advertised(WAIT_S), adv.status()
        assert await _browse_for(browser_zc, name)
        info = await _resolve(browser_zc, name)
        assert info is not None
        assert info.port == 8123
        assert info.server == f"{name}.local."
        assert info.properties == {b"version": __version__.encode(), b"path": b"/", b"api": b"/api/v1"}
        assert sorted(info.parsed_addresses()) == sorted(host_addresses())
    finally:
        await adv.close()
    assert adv.status()["advertised"] is False


@needs_multicast
async def test_start_does_not_wait_for_probing() -> None:
    # Probing a name takes about a second by the mDNS rules; the daemon's READY must
    # not wait for it, so start() returns while the name is still being probed.
    adv = Advertiser(_config(_unique_name()), 8124)
    await adv.start()
    try:
        assert adv.status()["advertised"] is False
        assert await adv.wait_advertised(WAIT_S)
        assert adv.status()["advertised"] is True
    finally:
        await adv.close()


@needs_multicast
async def test_new_addresses_are_advertised(browser_zc: AsyncZeroconf) -> None:
    name = _unique_name()
    found = [["192.0.2.10"]]
    adv = Advertiser(_config(name), 8125, addresses=lambda: found[-1], refresh_s=0.2)
    await adv.start()
    try:
        assert await adv.wait_advertised(WAIT_S)
        info = await _resolve(browser_zc, name)
        assert info is not None and info.parsed_addresses() == ["192.0.2.10"]
        found.append(["192.0.2.10", "198.51.100.7"])  # Wi-Fi joined
        for _ in range(100):
            await asyncio.sleep(0.1)
            if adv.status()["addresses"] == found[-1] and adv.status()["advertised"]:
                break
        fresh = AsyncZeroconf()  # a new client, with no cached records
        try:
            info = await _resolve(fresh, name)
        finally:
            await fresh.async_close()
        assert info is not None
        assert sorted(info.parsed_addresses()) == ["192.0.2.10", "198.51.100.7"]
    finally:
        await adv.close()


@needs_multicast
async def test_api_bound_to_one_address_is_advertised_there_only(browser_zc: AsyncZeroconf) -> None:
    name = _unique_name()
    config = Config.model_validate({"daemon": {"name": name}, "api": {"host": "127.0.0.1"}})
    adv = Advertiser(config, 8128, addresses=lambda: ["192.0.2.10"])
    await adv.start()
    try:
        assert await adv.wait_advertised(WAIT_S)
        info = await _resolve(browser_zc, name)
        assert info is not None and info.parsed_addresses() == ["127.0.0.1"]
    finally:
        await adv.close()


async def test_disabled_in_config_advertises_nothing() -> None:
    adv = Advertiser(_config(_unique_name(), enabled=False), 8126)
    await adv.start()
    assert await adv.wait_advertised(0.2) is False
    assert adv.status()["advertised"] is False and adv.status()["error"] is None
    await adv.close()


async def test_no_multicast_is_logged_not_raised(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # Fault injection: make opening the mDNS sockets fail the way it does on a
    # host without multicast (zeroconf raises OSError from socket setup).
    def no_multicast(*args: object, **kwargs: object) -> None:
        raise OSError(19, "No such device")

    monkeypatch.setattr(mdns, "AsyncZeroconf", no_multicast)
    adv = Advertiser(_config(_unique_name()), 8127)
    await adv.start()
    assert await adv.wait_advertised(WAIT_S) is False
    assert "No such device" in (adv.status()["error"] or "")
    assert "mdns advertisement failed" in caplog.text
    await adv.close()


def test_addresses_skip_loopback_and_link_local() -> None:
    for text in host_addresses():
        assert text == "127.0.0.1" or not text.startswith(("127.", "::1", "fe80:"))
