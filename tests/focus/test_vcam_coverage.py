"""libgphoto2's virtual camera serves the same image for every frame: coverage must say it
learned nothing about depth, and the preview must still be an image (fresh interpreter)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).with_name("vcam_coverage.py")


@pytest.mark.timeout(120)
def test_identical_frames_from_the_virtual_camera_give_no_depth_information(tmp_path: Path) -> None:
    pytest.importorskip("gphoto2")
    vcam = tmp_path / "vcam"
    vcam.mkdir()
    texture = np.random.default_rng(4).integers(0, 256, size=(240, 320, 3), dtype=np.uint8)
    Image.fromarray(texture, "RGB").save(vcam / "only.jpg", quality=90)  # a detailed, but single, picture
    env = {k: v for k, v in os.environ.items() if k not in ("IOLIBS", "CAMLIBS")}
    env.update(VCAMERADIR=str(vcam), PYTHONPATH=str(ROOT))
    work = tmp_path / "work"
    work.mkdir()
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), str(work)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=110
    )
    assert proc.returncode == 0, f"{proc.stdout}\n{proc.stderr}"
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    cov = result["coverage"]
    assert result["frames"] == 8 and cov["frames_analyzed"] == 8 and cov["state"] == "final", cov
    assert cov["depth_information"] is False and cov["complete"] is False and cov["suggest"] is None, cov
    assert cov["gaps"] == [] and "no depth information" in cov["detail"]
    assert result["preview_bytes"] > 0
