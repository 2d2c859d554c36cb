"""Wired shutter through gpiozero's PiGPIOFactory against the pigpiod emulator: the
virtual rig records each edge on the shutter and focus pins with its tick."""

from __future__ import annotations

import itertools
import os
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from raild.camera import create_camera
from raild.camera.errors import Unsupported
from raild.camera.wired import WiredCamera

from .helpers import RigWithPins, make_config

# Allowed lateness of a software-timed edge on a loaded machine; smaller than the
# difference between the configured times, so swapped or dropped waits still fail.
LATE_MS = 60


def ms_between(a: Any, b: Any) -> float:
    return ((b.tick - a.tick) % 2**32) / 1000.0  # ticks wrap at 2**32 µs


def presses(edges: list[Any]) -> list[dict[str, Any]]:
    """Group edges into shots: focus on, shutter on, shutter off, focus off."""
    shots = []
    active = list(edges)
    while active and not (active[0].kind == "focus" and active[0].active):
        active.pop(0)  # the idle level set when the outputs were opened
    for i in range(0, len(active) - 3, 4):
        f_on, s_on, s_off, f_off = active[i : i + 4]
        assert [(e.kind, e.active) for e in (f_on, s_on, s_off, f_off)] == [
            ("focus", True),
            ("shutter", True),
            ("shutter", False),
            ("focus", False),
        ], active[i : i + 4]
        shots.append(
            {
                "focus_ms": ms_between(f_on, s_on),
                "pulse_ms": ms_between(s_on, s_off),
                "start_tick": f_on.tick,
                "levels": (f_on.level, s_on.level, s_off.level, f_off.level),
            }
        )
    return shots


@pytest.mark.parametrize("active_high", [True, False])
async def test_pulses_recorded_by_the_rig_match_config(active_high: bool, tmp_path: Path) -> None:
    config = make_config(
        camera={"backend": "gpio", "focus_ms": 120, "shutter_pulse_ms": 50, "exposure_ms": 30},
        pins={"shutter": 23, "focus": 24, "shutter_active_high": active_high},
    )
    with RigWithPins(config) as rp:
        cam = create_camera(config, hw=SimpleNamespace(factory=rp.factory), sim=None, events=None)
        assert isinstance(cam, WiredCamera)
        await cam.open()
        assert cam.status()["connected"] is True
        shots = [await cam.capture(tmp_path / f"{i}.jpg") for i in range(3)]
        await cam.close()
        edges = rp.edges()
    for shot in shots:
        assert shot.confirmed is False  # nothing tells a wired shutter that the camera fired
        assert await shot.download is None
    assert not os.listdir(tmp_path)
    recorded = presses(edges)
    assert len(recorded) == 3
    on, off = (1, 0) if active_high else (0, 1)
    for shot in recorded:
        assert shot["levels"] == (on, on, off, off)
        # Software-timed on a thread: never short; late only by scheduling noise, which on a
        # loaded 2-core machine can reach tens of ms.
        assert 120 <= shot["focus_ms"] < 120 + LATE_MS, shot
        assert 50 <= shot["pulse_ms"] < 50 + LATE_MS, shot
    # Each capture waits out exposure_ms after the release before returning.
    gaps = [
        ms_between(SimpleNamespace(tick=a["start_tick"]), SimpleNamespace(tick=b["start_tick"]))
        for a, b in itertools.pairwise(recorded)
    ]
    assert all(gap >= 120 + 50 + 30 for gap in gaps), gaps
    # Closing leaves both lines released.
    last = {e.kind: e for e in edges}
    assert not last["shutter"].active and not last["focus"].active


async def test_without_a_focus_pin_only_the_shutter_pulses(tmp_path: Path) -> None:
    config = make_config(
        camera={"backend": "gpio", "focus_ms": 500, "shutter_pulse_ms": 30, "exposure_ms": 0},
        pins={"focus": 0},
    )
    with RigWithPins(config) as rp:
        cam = create_camera(config, hw=SimpleNamespace(factory=rp.factory), sim=None, events=None)
        await cam.open()
        await cam.capture(tmp_path / "a.jpg")
        await cam.close()
        edges = rp.edges()
    assert not [e for e in edges if e.kind == "focus"]
    on = next(i for i, e in enumerate(edges) if e.active)
    off = next(e for e in edges[on:] if not e.active)
    assert 30 <= ms_between(edges[on], off) < 30 + LATE_MS


async def test_focus_only_zero_ms_still_holds_focus_across_the_pulse(tmp_path: Path) -> None:
    config = make_config(camera={"backend": "gpio", "focus_ms": 0, "shutter_pulse_ms": 30, "exposure_ms": 0})
    with RigWithPins(config) as rp:
        cam = create_camera(config, hw=SimpleNamespace(factory=rp.factory), sim=None, events=None)
        await cam.open()
        await cam.capture(tmp_path / "a.jpg")
        await cam.close()
        (shot,) = presses(rp.edges())
    assert shot["focus_ms"] < LATE_MS and 30 <= shot["pulse_ms"] < 30 + LATE_MS


async def test_wired_camera_declares_what_it_cannot_do() -> None:
    cam = WiredCamera(make_config(camera={"backend": "gpio"}), pin_factory=None)
    assert cam.capabilities.as_dict() == {
        "capture": True,
        "confirm": False,
        "download": False,
        "preview": False,
        "settings": False,
    }
    for call in (cam.preview, cam.get_settings, lambda: cam.set_settings({"iso": "100"})):
        with pytest.raises(Unsupported) as err:
            await call()
        assert err.value.status == 503


def test_a_wired_shutter_needs_the_pigpio_connection() -> None:
    with pytest.raises(ValueError, match=r"hw\.factory"):
        create_camera(make_config(camera={"backend": "gpio"}), hw=None, sim=None, events=None)
