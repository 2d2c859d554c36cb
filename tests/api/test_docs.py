"""/docs works offline and /openapi.json documents every status and the problem shape."""

from __future__ import annotations

import re

from .helpers import Api


async def test_docs_page_and_assets_are_local(api: Api) -> None:
    r = await api.client.get("/docs")
    assert r.status_code == 200 and "text/html" in r.headers["content-type"]
    page = r.text
    refs = re.findall(r'(?:src|href)="([^"]+)"', page) + re.findall(r'url:\s*"([^"]+)"', page)
    assert refs, "the page loads nothing?"
    for ref in refs:
        assert not re.match(r"^(https?:)?//", ref), f"external asset {ref}"
        asset = await api.client.get(ref)
        assert asset.status_code == 200, ref
    # The start-up script is a file (the CSP allows no inline script).
    assert "<script>" not in page
    init = (await api.client.get("/docs/init.js")).text
    assert "validatorUrl: null" in init  # otherwise Swagger UI calls out for a badge
    assert re.search(r'url:\s*"/openapi.json"', init)
    bundle = (await api.client.get("/docs/assets/swagger-ui-bundle.js")).text
    assert "SwaggerUIBundle" in bundle


async def test_openapi_documents_problems_for_every_operation(api: Api) -> None:
    spec = (await api.client.get("/openapi.json")).json()
    assert set(spec["components"]["schemas"]["Problem"]["required"]) >= {"title", "status", "detail"}
    schemes = spec["components"]["securitySchemes"]
    assert {s["type"] for s in schemes.values()} >= {"http", "apiKey"}
    public = {
        ("/api/v1/health", "get"),
        ("/api/v1/session", "get"),
        ("/api/v1/session", "post"),
        ("/api/v1/session", "delete"),
    }
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            codes = set(op["responses"])
            assert not any(c.startswith("5") and c not in ("503", "507") for c in codes), (path, method)
            if (path, method) not in public:
                assert "401" in codes, (path, method)
                assert op.get("security"), (path, method)
            for code, resp in op["responses"].items():
                if code.startswith(("4", "5")):
                    schema = resp["content"]["application/problem+json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/Problem"}, (path, method, code)
            if "requestBody" in op:
                assert {"400", "413", "415", "422"} <= codes, (path, method)
            if method in ("post", "patch", "delete") and (path, method) not in public:
                assert "403" in codes, (path, method)


_PYDANTIC_BOUNDS = {"ge", "le", "gt", "lt"}


def _bound_keys(node: object, where: str = "") -> list[str]:
    """Where a schema carries pydantic's keyword names instead of JSON Schema's."""
    found: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            # Under "properties" the keys are field names, which may be anything.
            if key in _PYDANTIC_BOUNDS and not where.endswith("/properties"):
                found.append(f"{where}/{key}")
            found += _bound_keys(value, f"{where}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += _bound_keys(value, f"{where}/{i}")
    return found


async def test_openapi_bounds_are_json_schema_keywords(api: Api) -> None:
    """JSON Schema validators ignore `ge`/`le`/`gt`/`lt`: every bound must read as
    minimum/maximum (or their exclusive forms), and some must be there at all."""
    spec = (await api.client.get("/openapi.json")).json()
    assert _bound_keys(spec) == []
    text = str(spec)
    assert "'minimum'" in text and "'maximum'" in text


def test_the_bound_walker_finds_a_raw_bound() -> None:
    schema = {"properties": {"ge": {"type": "integer", "anyOf": [{"type": "integer"}], "le": 5}}}
    assert _bound_keys(schema) == ["/properties/ge/le"]
