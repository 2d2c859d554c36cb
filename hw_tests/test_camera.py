"""The camera on the rig: capture, download and preview on the real camera (gphoto2),
and the wired shutter's pulses.

A USB camera must be connected, switched on and in PTP/PC mode; with none the
gphoto2 tests skip and say so. The wired-shutter test also runs against the
emulator, which records every edge on the shutter and focus pins.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from hw_tests.conftest import report
from hw_tests.rig import Target
from raild.camera.factory import create_camera
from raild.events import EventBus

CAPTURE_TIMEOUT_S = 60.0


@pytest.fixture
async def usb_camera(target: Target) -> AsyncIterator[Any]:
    config = target.config
    if config.camera.backend != "gphoto2":
        pytest.skip(f'camera.backend is {config.camera.backend!r}; the USB camera tests need "gphoto2" in the config')
    from raild.check import _autodetect

    try:
        found = _autodetect()
    except ImportError:
        pytest.skip("the gphoto2 Python bindings are not installed (see docs/install.md)")
    if not found:
        pytest.skip("no USB camera detected: connect one, switch it on, set USB mode to PTP/PC")
    camera = create_camera(config, events=EventBus())
    await asyncio.wait_for(camera.open(), CAPTURE_TIMEOUT_S)
    report(f"camera: {camera.status().get('model')} ({found[0][1]})")
    try:
        yield camera
    finally:
        await camera.close()


async def test_capture_and_download(usb_camera: Any, tmp_path: Path) -> None:
    dest = tmp_path / "frame-0001.jpg"
    capture = await asyncio.wait_for(usb_camera.capture(dest), CAPTURE_TIMEOUT_S)
    assert capture.confirmed, "the camera did not confirm the frame"
    path = await asyncio.wait_for(capture.download, CAPTURE_TIMEOUT_S)
    assert path == dest and dest.stat().st_size > 0
    # Written atomically: nothing but the frame is left in the directory.
    names = await asyncio.to_thread(lambda: sorted(p.name for p in tmp_path.iterdir()))
    assert names == [dest.name]
    report(f"capture: {dest.stat().st_size} bytes downloaded")


async def test_preview_is_a_jpeg(usb_camera: Any) -> None:
    if not usb_camera.capabilities.preview:
        pytest.skip("this camera offers no live view through libgphoto2")
    from raild.camera.errors import Unsupported

    try:
        frame = await asyncio.wait_for(usb_camera.preview(), CAPTURE_TIMEOUT_S)
    except Unsupported as exc:  # known only once asked: libgphoto2 says so per model
        pytest.skip(f"no live view from this camera: {exc}")
    assert frame[:2] == b"\xff\xd8" and frame[-2:] == b"\xff\xd9", "not a JPEG"


async def test_wired_shutter_pulses(target: Target, tmp_path: Path) -> None:
    config = target.config
    if config.pins.shutter == 0:
        pytest.skip("no shutter optocoupler configured (pins.shutter = 0)")
    if not target.simulated and config.camera.backend != "gpio":
        pytest.skip('camera.backend is not "gpio": the wired shutter is not the camera here')
    from raild.hw import Hardware

    wired = config.with_overrides(camera={"backend": "gpio"})
    hw = await Hardware.connect(wired, target.host, target.port)
    since = target.inspector.ask("triggers")["count"] if target.inspector else 0
    camera = create_camera(wired, hw=hw, events=EventBus())
    try:
        await camera.open()
        capture = await asyncio.wait_for(camera.capture(tmp_path / "wired.jpg"), CAPTURE_TIMEOUT_S)
        assert capture.confirmed is False  # a wire cannot know whether a frame was taken
        assert await capture.download is None
    finally:
        await camera.close()
        await hw.close()
    if target.inspector is None:
        report("wired shutter fired: check that the camera took one frame")
        return
    triggers = target.inspector.ask("triggers", since=since)["triggers"]
    shutter = [t for t in triggers if t["kind"] == "shutter"]
    assert [t["active"] for t in shutter] == [True, False], shutter
    width_ms = (shutter[1]["emu_us"] - shutter[0]["emu_us"]) / 1000
    assert width_ms >= config.camera.shutter_pulse_ms
    report(f"SIMULATED wired shutter pulse: {width_ms:.1f} ms (configured {config.camera.shutter_pulse_ms} ms)")
