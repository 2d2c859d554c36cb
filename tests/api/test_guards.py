"""Bad input never reaches a route or becomes a 500: traversal, size, type, values."""

from __future__ import annotations

import pytest

from raild.api.guards import path_is_canonical

from .helpers import AUTH, Api

TRAVERSALS = [
    "/api/v1/stacks/%2e%2e/archive",
    "/api/v1/stacks/%2E%2E/frames/1",
    "/api/v1/stacks/%252e%252e/archive",
    "/api/v1/stacks/.%252e/archive",
    "/api/v1/stacks/..%5c..%5cetc/archive",
    "/api/v1/stacks/a%5c..%5cb/archive",
    "/api/v1/camera/captures/..%2f..%2fapi_token",
    "/api/v1/camera/captures/%2e%2e%2fapi_token",
    "/api/v1/camera/captures/%252e%252e%252fapi_token",
    "/api/v1/camera/captures/..%5capi_token",
    "/api/v1/camera/captures//etc/passwd",
    "/api/v1/camera/captures/%2fetc%2fpasswd",
    "/api/v1/camera/captures/.api_token",
    "/api/v1/stacks/%00/archive",
    "//etc/passwd",
]


@pytest.mark.parametrize("path", TRAVERSALS)
async def test_traversal_attempts_get_404_with_or_without_token(api: Api, path: str) -> None:
    (api.state_dir / "captures").mkdir(exist_ok=True)
    for headers in (AUTH, {}):
        r = await api.client.get(path, headers=headers)
        assert r.status_code in (401, 404), (path, r.status_code)
        if headers:
            assert r.status_code == 404, (path, r.text)
            assert r.headers["content-type"] == "application/problem+json"
        assert "api-test-token" not in r.text


def test_path_canonical_rules() -> None:
    assert path_is_canonical("/")
    assert path_is_canonical("/api/v1/stacks/20260101-000000-000ab/archive")
    assert path_is_canonical("/api/v1/")
    for bad in ("/a/../b", "/a/./b", "/a//b", "/a\\b", "/a%2eb", "relative", "/a\x00"):
        assert not path_is_canonical(bad), bad


async def test_oversized_body_is_413_before_parsing(api: Api) -> None:
    limit = api.daemon.config.api.max_body_bytes
    body = b'{"token": "' + b"x" * limit + b'"}'
    r = await api.client.post("/api/v1/session", content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 413
    assert r.headers["content-type"] == "application/problem+json"
    assert str(limit) in r.json()["detail"]


async def test_oversized_chunked_body_is_413(api: Api) -> None:
    limit = api.daemon.config.api.max_body_bytes

    async def chunks():  # no Content-Length: counted while it streams in
        for _ in range(limit // 1000 + 2):
            yield b" " * 1000

    r = await api.client.post(
        "/api/v1/motion/move", content=chunks(), headers={**AUTH, "Content-Type": "application/json"}
    )
    assert r.status_code == 413


async def test_malformed_json_is_400(api: Api) -> None:
    for body in (b'{"to_um": ', b"not json", b'{"to_um": 1,}'):
        r = await api.client.post(
            "/api/v1/motion/move", content=body, headers={**AUTH, "Content-Type": "application/json"}
        )
        assert r.status_code == 400, body
        assert r.headers["content-type"] == "application/problem+json"


async def test_wrong_content_type_is_415(api: Api) -> None:
    for ctype in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data"):
        r = await api.client.post("/api/v1/session", content=b"token=abc", headers={"Content-Type": ctype})
        assert r.status_code == 415, ctype
        assert r.headers["content-type"] == "application/problem+json"


BAD_VALUES = [
    b'{"to_um": NaN}',
    b'{"to_um": Infinity}',
    b'{"to_um": -Infinity}',
    b'{"to_um": 1e400}',
    b'{"to_um": "12"}',
    b'{"to_um": 1e300}',
    b'{"to_um": true}',
    b'{"to_um": 1, "by_um": 1}',
    b"{}",
    b'{"to_um": 1, "extra": 1}',
    b'{"by_um": 1, "speed_um_s": 0}',
    b'{"by_um": 1, "speed_um_s": NaN}',
    b'{"to_um": 1, "wait": "yes"}',
    b"[]",
    b"1",
    b"null",
]


@pytest.mark.parametrize("body", BAD_VALUES)
async def test_bad_values_are_422_never_500(api: Api, body: bytes) -> None:
    r = await api.client.post("/api/v1/motion/move", content=body, headers={**AUTH, "Content-Type": "application/json"})
    assert r.status_code == 422, (body, r.text)
    problem = r.json()
    assert problem["status"] == 422 and problem["errors"]


@pytest.mark.parametrize(
    "query",
    [
        "magnification=nan&aperture=4",
        "magnification=inf&aperture=4",
        "magnification=0&aperture=4",
        "magnification=2&aperture=-1",
        "magnification=2",
        "magnification=x&aperture=4",
        "magnification=2&aperture=4&overlap=1",
        "magnification=1e999&aperture=4",
    ],
)
async def test_bad_queries_are_422(api: Api, query: str) -> None:
    r = await api.client.get(f"/api/v1/optics/step?{query}", headers=AUTH)
    assert r.status_code == 422, (query, r.text)
    assert r.headers["content-type"] == "application/problem+json"


async def test_unknown_paths_and_methods_are_problems(api: Api) -> None:
    r = await api.client.get("/api/v1/nope", headers=AUTH)
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"
    r = await api.client.put("/api/v1/status", headers=AUTH)
    assert r.status_code == 405 and "GET" in r.headers["allow"]
