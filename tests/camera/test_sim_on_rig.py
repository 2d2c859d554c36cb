"""The simulated camera plugged into the virtual rig by `create_camera`: it looks from the
carriage's true position and logs each exposure in the rig's trigger record."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image

from raild.camera import create_camera
from raild.camera.focus_measure import luminance, region_sharpness
from raild.camera.sim import SimCamera
from raild.sim.rig import SimRig

from .helpers import make_config


async def test_exposures_use_and_record_the_true_carriage_position(tmp_path: Path) -> None:
    config = make_config(sim={"capture_latency_ms": 0, "download_ms": 0, "preview_ms": 0})
    rig = SimRig(config)
    await rig.start("127.0.0.1", 0)
    try:
        cam = create_camera(config, hw=None, sim=rig, events=None)
        assert isinstance(cam, SimCamera)
        await cam.open()
        sharpness = []
        for i, position_um in enumerate((49_000.0, 50_000.0, 51_000.0)):
            rig.rail.set_position_um(position_um)
            true_um = rig.rail.true_position_um  # whole microsteps
            shot = await cam.capture(tmp_path / f"frame_{i}.jpg")
            path = await shot.download
            assert shot.info["position_um"] == true_um
            with Image.open(path) as im:
                assert f"{true_um:.1f} um" in im.getexif()[0x010E]
            gray = luminance(path.read_bytes())
            sharpness.append([region_sharpness(gray, r.x0, r.x1, r.y0, r.y1) for r in cam.subject.regions])
        await cam.close()
        captures = [t for t in rig.rail.triggers if t.kind == "capture"]
        assert [t.label for t in captures] == ["frame_0.jpg", "frame_1.jpg", "frame_2.jpg"]
        assert [round(t.position_um) for t in captures] == [49_000, 50_000, 51_000]
        # Near face sharpest at 49 mm, the middle at 50 mm, the far face at 51 mm.
        table = np.array(sharpness)
        assert [int(np.argmax(table[:, r])) for r in (0, 5, 6, 11)] == [0, 1, 1, 2]
    finally:
        await rig.stop()


async def test_without_a_rig_the_camera_looks_from_the_start_position() -> None:
    config = make_config(sim={"preview_ms": 0, "start_position_um": 49_000.0})
    cam = create_camera(config, hw=None, sim=None, events=None)
    await cam.open()
    jpeg = await cam.preview()
    await cam.close()
    with Image.open(io.BytesIO(jpeg)) as im:
        assert "49000.0 um" in im.getexif()[0x010E]
