"""CORS only for configured origins, credentials never with a wildcard."""

from __future__ import annotations

from pathlib import Path

from .helpers import AUTH, Api, running_api, sim_config

PREFLIGHT = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization, content-type"}


async def test_no_cors_by_default(api: Api) -> None:
    r = await api.client.options("/api/v1/motion/stop", headers={"Origin": "http://evil.example", **PREFLIGHT})
    assert "access-control-allow-origin" not in r.headers
    r = await api.client.get("/api/v1/status", headers={"Origin": "http://evil.example", **AUTH})
    assert r.status_code == 200 and "access-control-allow-origin" not in r.headers


async def test_only_configured_origins(tmp_path: Path) -> None:
    config = sim_config(api={"cors_origins": ["http://laptop.local:3000"]})
    async with running_api(tmp_path, config) as api:
        good = {"Origin": "http://laptop.local:3000"}
        r = await api.client.options("/api/v1/motion/stop", headers={**good, **PREFLIGHT})
        assert r.status_code == 200
        assert r.headers["access-control-allow-origin"] == "http://laptop.local:3000"
        assert r.headers["access-control-allow-credentials"] == "true"
        r = await api.client.get("/api/v1/status", headers={**good, **AUTH})
        assert r.headers["access-control-allow-origin"] == "http://laptop.local:3000"
        bad = {"Origin": "http://evil.example"}
        r = await api.client.options("/api/v1/motion/stop", headers={**bad, **PREFLIGHT})
        assert r.status_code == 400 and "access-control-allow-origin" not in r.headers
        r = await api.client.get("/api/v1/status", headers={**bad, **AUTH})
        assert "access-control-allow-origin" not in r.headers


async def test_405_names_every_method_of_the_path(api: Api) -> None:
    r = await api.client.put("/api/v1/session")
    assert r.status_code == 405
    assert set(r.headers["allow"].split(", ")) == {"GET", "POST", "DELETE"}
    r = await api.client.get("/api/v1/motion/stop", headers=AUTH)
    assert r.status_code == 405 and r.headers["allow"] == "POST"
    assert r.headers["content-type"] == "application/problem+json"
