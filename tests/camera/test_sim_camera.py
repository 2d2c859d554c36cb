"""The simulated optical camera: optics that follow the carriage, latencies, settings."""

from __future__ import annotations

import asyncio
import io
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from raild.camera.errors import CameraUnavailable, InvalidSetting
from raild.camera.focus_measure import luminance, region_sharpness
from raild.camera.sim import SimCamera
from raild.events import EventBus

from .helpers import MovablePosition, make_config

FAST = {"capture_latency_ms": 0, "download_ms": 0, "preview_ms": 0}


async def open_camera(carriage: MovablePosition, **sim: object) -> SimCamera:
    config = make_config(sim={**FAST, **sim})
    cam = SimCamera(config, position_um=carriage, on_exposure=carriage.record)
    await cam.open()
    return cam


async def sweep(cam: SimCamera, carriage: MovablePosition, positions: np.ndarray, tmp: Path) -> np.ndarray:
    """Sharpness[position, region] from captured and downloaded frames."""
    table = np.zeros((len(positions), len(cam.subject.regions)))
    for i, pos in enumerate(positions):
        carriage.position_um = float(pos)
        shot = await cam.capture(tmp / f"f{i:03d}.jpg")
        path = await shot.download
        assert path is not None
        gray = luminance(path.read_bytes())
        for r in cam.subject.regions:
            table[i, r.index] = region_sharpness(gray, r.x0, r.x1, r.y0, r.y1)
    return table


async def test_focus_sweep_peaks_where_each_region_is_in_focus(tmp_path: Path) -> None:
    near_um, depth_um = 49_000.0, 2_000.0
    carriage = MovablePosition(near_um)
    cam = await open_camera(carriage, subject_near_um=near_um, subject_depth_um=depth_um)
    positions = np.arange(near_um - 400.0, near_um + depth_um + 400.0, 50.0)
    table = await sweep(cam, carriage, positions, tmp_path)
    await cam.close()

    regions = cam.subject.regions
    spacing_um = depth_um / (len(regions) - 1)
    for r in regions:
        expected_um = near_um + r.depth_um
        peak_um = positions[int(np.argmax(table[:, r.index]))]
        assert abs(peak_um - expected_um) <= spacing_um / 2, (r.index, peak_um, expected_um)
        # Far from focus the region must be clearly softer than at its peak.
        assert table[:, r.index].max() > 2.0 * table[:, r.index].min()
    # The exposure recorder saw every frame with the carriage where it was.
    assert [p for _, p in carriage.exposures] == [float(p) for p in positions]


async def test_stopping_down_widens_depth_of_field(tmp_path: Path) -> None:
    carriage = MovablePosition(49_000.0)  # near face in focus; far terraces are 2 mm off
    cam = await open_camera(carriage)
    far = cam.subject.regions[-1]

    async def far_sharpness(name: str) -> float:
        shot = await cam.capture(tmp_path / name)
        gray = luminance((await shot.download).read_bytes())  # type: ignore[union-attr]
        return region_sharpness(gray, far.x0, far.x1, far.y0, far.y1)

    wide = await far_sharpness("wide.jpg")
    await cam.set_settings({"aperture": "f/22"})
    stopped = await far_sharpness("stopped.jpg")
    await cam.close()
    assert stopped > 1.5 * wide


async def test_same_seed_same_picture_other_seed_other_picture(tmp_path: Path) -> None:
    carriage = MovablePosition(50_000.0)
    pictures = []
    for seed in (7, 7, 8):
        cam = await open_camera(carriage, seed=seed)
        pictures.append(await cam.preview())
        await cam.close()
    assert pictures[0] == pictures[1]
    assert pictures[0] != pictures[2]


async def test_output_is_labelled_simulated(tmp_path: Path) -> None:
    cam = await open_camera(MovablePosition(50_000.0), image_width=160, image_height=96)
    shot = await cam.capture(tmp_path / "a.jpg")
    path = await shot.download
    await cam.close()
    with Image.open(path) as im:
        exif = im.getexif()
        assert im.size == (160, 96)
        assert im.format == "JPEG"
    assert exif[0x0110] == "raild simulated camera"
    assert "simulated" in exif[0x010E] and "50000.0 um" in exif[0x010E]
    assert shot.confirmed and shot.info["simulated"] is True
    assert cam.status() == {"backend": "sim", "connected": False, "model": "raild simulated camera"}


async def test_capture_returns_before_download_and_downloads_keep_order(tmp_path: Path) -> None:
    carriage = MovablePosition(50_000.0)
    cam = await open_camera(carriage, download_ms=150)
    first = await cam.capture(tmp_path / "0.jpg")
    # The exposure is over but the transfer of the frame is still running.
    assert not first.download.done()
    shots = [first] + [await cam.capture(tmp_path / f"{i}.jpg") for i in (1, 2)]
    finished: list[int] = []
    for i, shot in enumerate(shots):
        shot.download.add_done_callback(lambda _f, i=i: finished.append(i))
    await asyncio.gather(*(s.download for s in shots))
    await cam.close()
    assert finished == [0, 1, 2]
    assert sorted(os.listdir(tmp_path)) == ["0.jpg", "1.jpg", "2.jpg"]


async def test_invalid_setting_is_refused_with_choices_and_changes_nothing() -> None:
    cam = await open_camera(MovablePosition(50_000.0))
    before = await cam.get_settings()
    with pytest.raises(InvalidSetting) as err:
        await cam.set_settings({"iso": "400", "shutterspeed": "1/3"})
    assert err.value.status == 422
    assert "1/125" in err.value.choices and "1/3" not in err.value.choices
    with pytest.raises(InvalidSetting) as unknown:
        await cam.set_settings({"whitebalance": "Auto"})
    assert "aperture" in unknown.value.choices
    assert await cam.get_settings() == before
    await cam.set_settings({"iso": "400"})
    assert (await cam.get_settings())["iso"].value == "400"
    await cam.close()


async def test_preview_is_a_jpeg_and_closed_camera_refuses() -> None:
    events = EventBus()
    events.bind_loop(asyncio.get_running_loop())
    sub = events.subscribe()
    config = make_config(sim=FAST)
    cam = SimCamera(config, position_um=lambda: 50_000.0, events=events)
    await cam.open()
    frame = await cam.preview()
    with Image.open(io.BytesIO(frame)) as im:
        assert im.format == "JPEG"
    await cam.close()
    with pytest.raises(CameraUnavailable):
        await cam.preview()
    kinds = [(await sub.get(0.1)) for _ in range(2)]
    assert [(e.kind, e.data["connected"]) for e in kinds if e] == [("camera:status", True), ("camera:status", False)]
