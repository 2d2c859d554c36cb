from __future__ import annotations

import pytest

from .helpers import AUTH, Api


async def test_step_from_magnification_and_aperture(api: Api) -> None:
    r = await api.client.get("/api/v1/optics/step?magnification=2&aperture=4", headers=AUTH)
    assert r.status_code == 200
    body = r.json()
    # DOF = 2·C·N·(M+1)/M² with C = 15 µm: 2·15·4·3/4 = 90 µm; step = 90 × 0.8
    assert body["dof_um"] == pytest.approx(90.0)
    assert body["step_um"] == pytest.approx(72.0)
    r = await api.client.get("/api/v1/optics/step?magnification=1&aperture=8&coc_um=30&overlap=0", headers=AUTH)
    assert r.json() == {"dof_um": pytest.approx(960.0), "step_um": pytest.approx(960.0)}
