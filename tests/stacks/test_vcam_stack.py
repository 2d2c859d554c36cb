"""A stack through the real gphoto2 backend on libgphoto2's virtual camera (fresh interpreter)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).with_name("vcam_stack.py")


@pytest.mark.timeout(120)
def test_stack_on_the_virtual_camera_with_injected_faults(tmp_path: Path) -> None:
    vcam = tmp_path / "vcam"
    vcam.mkdir()
    for i in range(3):
        Image.new("RGB", (64, 48), (60 * i, 100, 220 - 50 * i)).save(vcam / f"img{i}.jpg", quality=90)
    env = {k: v for k, v in os.environ.items() if k not in ("IOLIBS", "CAMLIBS")}
    env.update(VCAMERADIR=str(vcam), PYTHONPATH=str(ROOT))
    work = tmp_path / "work"
    work.mkdir()
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), str(work)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=110
    )
    assert proc.returncode == 0, f"{proc.stdout}\n{proc.stderr}"
    assert "scenario ok: stack_on_virtual_camera" in proc.stdout
