"""Camera routes against the simulated camera (the real backend, not a stand-in)."""

from __future__ import annotations

from .helpers import AUTH, Api

JPEG_MAGIC = b"\xff\xd8\xff"


async def test_camera_info(api: Api) -> None:
    r = await api.client.get("/api/v1/camera", headers=AUTH)
    assert r.status_code == 200
    info = r.json()
    assert info["backend"] == "sim" and info["connected"] is True
    assert "simulated" in info["model"].lower()
    assert info["capabilities"] == {
        "capture": True,
        "confirm": True,
        "download": True,
        "preview": True,
        "settings": True,
    }


async def test_settings_read_and_change(api: Api) -> None:
    settings = (await api.client.get("/api/v1/camera/settings", headers=AUTH)).json()
    assert {"iso", "shutterspeed", "aperture", "imageformat", "capturetarget"} <= set(settings)
    speed = settings["shutterspeed"]
    other = next(c for c in speed["choices"] if c != speed["value"])
    r = await api.client.patch("/api/v1/camera/settings", json={"shutterspeed": other}, headers=AUTH)
    assert r.status_code == 200 and r.json()["shutterspeed"]["value"] == other
    again = (await api.client.get("/api/v1/camera/settings", headers=AUTH)).json()
    assert again["shutterspeed"]["value"] == other


async def test_invalid_setting_is_422_with_choices(api: Api) -> None:
    r = await api.client.patch("/api/v1/camera/settings", json={"shutterspeed": "1/3"}, headers=AUTH)
    assert r.status_code == 422
    problem = r.json()
    assert r.headers["content-type"] == "application/problem+json"
    assert "1/125" in problem["choices"]
    for body in ({"focusmode": "AF-S"}, {"iso": 100}, {"iso": ""}):
        r = await api.client.patch("/api/v1/camera/settings", json=body, headers=AUTH)
        assert r.status_code == 422, body


async def test_capture_is_served_back_by_its_url(api: Api) -> None:
    r = await api.client.post("/api/v1/camera/capture", headers=AUTH)
    assert r.status_code == 201, r.text
    shot = r.json()
    assert shot["confirmed"] is True and shot["size"] > 0
    assert (api.state_dir / "captures" / shot["name"]).is_file()
    image = await api.client.get(shot["url"], headers=AUTH)
    assert image.status_code == 200 and image.headers["content-type"] == "image/jpeg"
    assert image.content.startswith(JPEG_MAGIC) and len(image.content) == shot["size"]
    assert (await api.client.get(shot["url"])).status_code == 401
    missing = await api.client.get("/api/v1/camera/captures/nope.jpg", headers=AUTH)
    assert missing.status_code == 404


async def test_preview_is_one_jpeg(api: Api) -> None:
    r = await api.client.get("/api/v1/camera/preview", headers=AUTH)
    assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg"
    assert r.content.startswith(JPEG_MAGIC)


async def test_camera_unavailable_is_503(api: Api) -> None:
    await api.daemon.camera.close()
    r = await api.client.get("/api/v1/camera/preview", headers=AUTH)
    assert r.status_code == 503 and r.headers["content-type"] == "application/problem+json"
    assert (await api.client.get("/api/v1/camera", headers=AUTH)).json()["connected"] is False
