"""Motion routes against the virtual rail: its true position is the judge."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from .helpers import AUTH, Api, home, running_api, sim_config, wait_state


def _true_um(api: Api) -> float:
    return api.daemon.sim.rail.true_position_um


async def test_unhomed_move_is_409_must_home_first(api: Api) -> None:
    r = await api.client.post("/api/v1/motion/move", json={"to_um": 500}, headers=AUTH)
    assert r.status_code == 409
    assert r.headers["content-type"] == "application/problem+json"
    assert "home" in r.json()["detail"]


async def test_home_then_move_wait_and_202(api: Api) -> None:
    await home(api)
    r = await api.client.post("/api/v1/motion/move", json={"to_um": 800.0, "wait": True}, headers=AUTH)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["done"] is True and body["target_um"] == 800.0
    assert body["status"]["position_um"] == pytest.approx(800.0, abs=0.5)
    assert _true_um(api) == pytest.approx(800.0 + 0.0, abs=1.0)

    r = await api.client.post("/api/v1/motion/move", json={"by_um": 150.0}, headers=AUTH)
    assert r.status_code == 202, r.text
    assert r.json()["target_um"] == pytest.approx(950.0, abs=0.5)
    assert r.json()["done"] is False
    status = await wait_state(api)
    assert status["position_um"] == pytest.approx(950.0, abs=0.5)
    assert _true_um(api) == pytest.approx(950.0, abs=1.0)


async def test_busy_out_of_limits_and_bad_speed(api: Api) -> None:
    await home(api)
    r = await api.client.post("/api/v1/motion/move", json={"to_um": 99_999_999.0}, headers=AUTH)
    assert r.status_code == 422
    r = await api.client.post("/api/v1/motion/move", json={"to_um": 200_000.0}, headers=AUTH)
    assert r.status_code == 422
    problem = r.json()
    assert problem["min_um"] == pytest.approx(10.0) and problem["max_um"] == pytest.approx(99_990.0)
    r = await api.client.post("/api/v1/motion/move", json={"to_um": 20_000.0}, headers=AUTH)
    assert r.status_code == 202
    r = await api.client.post("/api/v1/motion/move", json={"to_um": 500.0}, headers=AUTH)
    assert r.status_code == 409 and r.json()["status"] == 409
    r = await api.client.post("/api/v1/motion/stop", headers=AUTH)
    assert r.status_code == 200 and r.json()["state"] == "idle"


async def _moving_past(api: Api, um: float) -> None:
    for _ in range(400):
        if _true_um(api) > um:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"the carriage never passed {um} µm")


async def test_stop_is_controlled_and_keeps_position_exact(api: Api) -> None:
    await home(api)
    await api.client.post("/api/v1/motion/move", json={"to_um": 30_000.0}, headers=AUTH)
    await _moving_past(api, 1_500.0)
    r = await api.client.post("/api/v1/motion/stop", headers=AUTH)
    assert r.status_code == 200
    status = r.json()
    assert status["state"] == "idle" and status["position_known"] is True
    assert 1_500 < status["position_um"] < 30_000, (status, _true_um(api))
    await asyncio.sleep(0.1)
    assert _true_um(api) == pytest.approx(status["position_um"], abs=1.0)


async def test_estop_latches_until_reset(api: Api) -> None:
    await home(api)
    await api.client.post("/api/v1/motion/move", json={"to_um": 30_000.0}, headers=AUTH)
    await _moving_past(api, 1_500.0)
    r = await api.client.post("/api/v1/motion/estop", headers=AUTH)
    assert r.status_code == 200
    assert r.json()["state"] == "estop" and r.json()["motor_enabled"] is False
    moved = _true_um(api)
    await asyncio.sleep(0.2)
    assert _true_um(api) == pytest.approx(moved, abs=1.0), "the carriage kept moving after e-stop"
    r = await api.client.post("/api/v1/motion/move", json={"by_um": 10.0}, headers=AUTH)
    assert r.status_code == 409
    r = await api.client.post("/api/v1/motion/reset", headers=AUTH)
    assert r.status_code == 200 and r.json()["state"] == "idle"


async def test_motor_toggle_and_zero_refused_with_a_switch(api: Api) -> None:
    await home(api)
    r = await api.client.post("/api/v1/motion/motor", json={"enabled": False}, headers=AUTH)
    assert r.status_code == 200 and r.json()["motor_enabled"] is False
    r = await api.client.post("/api/v1/motion/motor", json={"enabled": True}, headers=AUTH)
    assert r.status_code == 200 and r.json()["motor_enabled"] is True
    r = await api.client.post("/api/v1/motion/motor", json={"enabled": "yes"}, headers=AUTH)
    assert r.status_code == 422
    r = await api.client.post("/api/v1/motion/zero", headers=AUTH)
    assert r.status_code == 409  # the switch defines zero on this rail


async def test_rail_without_switch_zeroes_and_home_is_422(tmp_path: Path) -> None:
    config = sim_config(homing={"switch": "none"})
    async with running_api(tmp_path, config) as api:
        r = await api.client.post("/api/v1/motion/home", headers=AUTH)
        assert r.status_code == 422 and "zero" in r.json()["detail"]
        r = await api.client.post("/api/v1/motion/zero", headers=AUTH)
        assert r.status_code == 200
        assert r.json()["position_um"] == 0.0 and r.json()["position_known"] is True
        r = await api.client.post("/api/v1/motion/move", json={"by_um": 300.0, "wait": True}, headers=AUTH)
        assert r.status_code == 200 and r.json()["status"]["position_um"] == pytest.approx(300, abs=0.5)


async def test_estop_answer_is_final(api: Api) -> None:
    await home(api)
    await api.client.post("/api/v1/motion/move", json={"to_um": 30_000.0}, headers=AUTH)
    await _moving_past(api, 1_500.0)
    answer = (await api.client.post("/api/v1/motion/estop", headers=AUTH)).json()
    await asyncio.sleep(1.0)
    later = (await api.client.get("/api/v1/status", headers=AUTH)).json()
    assert answer["position_known"] == later["position_known"]
    assert answer["position_um"] == later["position_um"]
    assert later["motor_off_reason"] == "estop"
    if answer["position_known"]:
        assert _true_um(api) == pytest.approx(answer["position_um"], abs=0.5)


async def test_jog_runs_while_renewed_and_is_refused_when_latched(api: Api) -> None:
    await home(api)
    r = await api.client.post("/api/v1/motion/jog", json={"direction": "+"}, headers=AUTH)
    assert r.status_code == 202 and r.json()["state"] == "moving"
    for _ in range(3):
        await asyncio.sleep(0.1)
        r = await api.client.post("/api/v1/motion/jog", json={"direction": "+", "speed_um_s": 1_000.0}, headers=AUTH)
        assert r.status_code == 202
    r = await api.client.post("/api/v1/motion/move", json={"to_um": 500.0}, headers=AUTH)
    assert r.status_code == 409  # the jog holds the rail
    r = await api.client.post("/api/v1/motion/stop", headers=AUTH)
    assert r.status_code == 200 and r.json()["state"] == "idle" and r.json()["position_known"]
    assert _true_um(api) == pytest.approx(r.json()["position_um"], abs=0.5)
    r = await api.client.post("/api/v1/motion/jog", json={"direction": "up"}, headers=AUTH)
    assert r.status_code == 422
    r = await api.client.post("/api/v1/motion/jog", json={"direction": "+", "speed_um_s": "fast"}, headers=AUTH)
    assert r.status_code == 422
    await api.client.post("/api/v1/motion/estop", headers=AUTH)
    r = await api.client.post("/api/v1/motion/jog", json={"direction": "-"}, headers=AUTH)
    assert r.status_code == 409
    await api.client.post("/api/v1/motion/reset", headers=AUTH)
