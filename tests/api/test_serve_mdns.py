"""`raild serve` advertises over mDNS only for a real rig with mdns enabled."""

from __future__ import annotations

from raild.mdns import Advertiser
from raild.serve import _start_mdns

from .helpers import free_port, sim_config


async def test_mdns_only_for_a_real_rig_with_it_enabled() -> None:
    assert await _start_mdns(sim_config(), sim=True) is None
    assert await _start_mdns(sim_config(daemon={"mdns": False}), sim=False) is None
    config = sim_config(api={"port": free_port()}, daemon={"name": "raild-api-test"})
    advertiser = await _start_mdns(config, sim=False)
    try:
        assert isinstance(advertiser, Advertiser)
        assert advertiser.port == config.api.port
        assert advertiser.status()["host"] == "raild-api-test.local"
    finally:
        await advertiser.close()
