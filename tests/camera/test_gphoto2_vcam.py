"""The gphoto2 backend against libgphoto2's virtual camera, each scenario in a fresh interpreter."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).with_name("vcam_scenarios.py")


def make_vcam_dir(folder: Path) -> Path:
    """JPEGs for the virtual camera to serve, each different so downloads can be checked."""
    folder.mkdir()
    for i in range(3):
        # Noise makes files of a few hundred KiB, so a partial write would have a window to show.
        noise = Image.effect_noise((800, 600), 40 + 20 * i).convert("RGB")
        noise.save(folder / f"img{i}.jpg", quality=95)
    return folder


def run_scenario(name: str, tmp_path: Path, virtual_camera: bool = True) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("VCAMERADIR", "IOLIBS", "CAMLIBS")}
    if virtual_camera:
        env["VCAMERADIR"] = str(make_vcam_dir(tmp_path / "vcam"))
    env["PYTHONPATH"] = str(ROOT)
    work = tmp_path / "work"
    work.mkdir()
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), name, str(work)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert proc.returncode == 0, f"scenario {name} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


@pytest.mark.parametrize(
    "name",
    [
        "capture_and_download",
        "keep_on_camera",
        "trigger_and_file_event",
        "settings_get_set",
        "capture_target_card",
        "preview_unsupported",
        "injected_errors",
        "wire_trigger",
        "camera_hangs",
    ],
)
def test_virtual_camera(name: str, tmp_path: Path) -> None:
    assert f"scenario ok: {name}" in run_scenario(name, tmp_path)


def test_camera_absent_gives_a_clear_error(tmp_path: Path) -> None:
    # Without VCAMERADIR the wheel uses real USB, where this machine has no camera.
    assert "scenario ok: camera_absent" in run_scenario("camera_absent", tmp_path, virtual_camera=False)


def test_probe_on_a_camera_claimed_by_another_program(tmp_path: Path) -> None:
    assert "scenario ok: probe_claimed" in run_scenario("probe_claimed", tmp_path)


def test_probe_records_a_failing_path_and_goes_on(tmp_path: Path) -> None:
    assert "scenario ok: probe_path_fails" in run_scenario("probe_path_fails", tmp_path)
