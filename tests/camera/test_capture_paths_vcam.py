"""Each capture path the virtual camera supports, through a whole stack (fresh interpreter each)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from .test_gphoto2_vcam import make_vcam_dir

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).with_name("vcam_stack_paths.py")


@pytest.mark.timeout(120)
@pytest.mark.parametrize(
    ("mode", "target", "delete", "expected"),
    [
        ("download", "ram", "delete", "download/ram/delete"),
        ("download", "card", "keep", "download/card/keep"),
        ("trigger", "ram", "delete", "trigger/ram/delete"),
        ("trigger", "card", "keep", "trigger/card/keep"),
        # capture_mode/capture_target "auto" on a Nikon: the nikon_card_trigger rule.
        ("auto", "auto", "delete", "trigger/card/delete"),
    ],
)
def test_stack_through_each_capture_path(tmp_path: Path, mode: str, target: str, delete: str, expected: str) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("IOLIBS", "CAMLIBS")}
    env.update(VCAMERADIR=str(make_vcam_dir(tmp_path / "vcam")), PYTHONPATH=str(ROOT))
    work = tmp_path / "work"
    work.mkdir()
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), mode, target, delete, str(work)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=110,
    )
    assert proc.returncode == 0, f"{proc.stdout}\n{proc.stderr}"
    assert f"scenario ok: {expected}" in proc.stdout, proc.stdout
