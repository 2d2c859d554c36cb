"""`raild camera probe` end to end on libgphoto2's virtual camera, and with no camera,
each in a fresh interpreter (`VCAMERADIR` must be set before `import gphoto2`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from raild.camera.probe import EX_UNAVAILABLE
from raild.config import load_config

from .test_gphoto2_vcam import make_vcam_dir

ROOT = Path(__file__).resolve().parents[2]


def probe(tmp_path: Path, *args: str, virtual_camera: bool = True) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("VCAMERADIR", "IOLIBS", "CAMLIBS", "RAILD_CONFIG")}
    if virtual_camera:
        env["VCAMERADIR"] = str(make_vcam_dir(tmp_path / "vcam"))
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.run(
        [sys.executable, "-m", "raild", "camera", "probe", *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_probe_json_times_every_path_and_recommends_a_section_raild_accepts(tmp_path: Path) -> None:
    proc = probe(tmp_path, "--shots", "2", "--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["ok"] is True and doc["model"] == "Nikon DSC D750" and doc["brand"] == "nikon"
    assert doc["settings"]["capture target"]["widget"] == "capturetarget"
    paths = {p["path"]: p for p in doc["paths"]}
    assert len(paths) == 6 and all(p["ok"] and p["shots"] == 2 for p in paths.values()), paths
    for p in paths.values():
        assert p["mean_s"]["total_s"] > 0 and p["bytes_per_shot"] > 10_000 and p["files_per_shot"] == 1
    kept = paths["trigger+wait-for-file to card+keep"]["mean_s"]["delete_s"]
    assert kept == 0 and paths["trigger+wait-for-file to card+delete"]["mean_s"]["delete_s"] > 0
    assert doc["liveview"]["supported"] is False  # the virtual camera has no live view
    section = doc["recommended"]["section"]
    cfg_file = tmp_path / "raild.toml"
    cfg_file.write_text(section)
    camera = load_config(cfg_file).camera
    assert camera.backend == "gphoto2"
    fastest_s = min(p["mean_s"]["total_s"] for p in doc["paths"])
    chosen = doc["recommended"]["camera"]
    # The choice is one of the measured paths, within 5 % (or 20 ms) of the fastest.
    match = [
        p
        for p in doc["paths"]
        if (p["mode"], p["target"], p["delete"])
        == (chosen["capture_mode"], chosen["capture_target"], chosen["delete_after_download"])
    ]
    assert len(match) == 1 and match[0]["mean_s"]["total_s"] <= max(fastest_s * 1.05, fastest_s + 0.02) + 1e-4
    assert (camera.capture_mode, camera.capture_target) == (chosen["capture_mode"], chosen["capture_target"])


def test_probe_text_with_a_config_file_keeps_the_users_rule_keys(tmp_path: Path) -> None:
    cfg = tmp_path / "mine.toml"
    cfg.write_text('[camera]\nremote_release = "off"\ncapture_timeout_s = 10.0\n')
    proc = probe(tmp_path, "--config", str(cfg), "--shots", "1")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert out.startswith("camera: Nikon DSC D750") and "capture paths (1 shot each" in out
    assert "live view: not available" in out and "advice: the body is set to autofocus" in out
    section = out[out.index("[camera]") :]
    assert 'remote_release = "off"' in section
    (tmp_path / "section.toml").write_text(section)
    assert load_config(tmp_path / "section.toml").camera.remote_release == "off"


def test_probe_without_a_camera_says_so_in_one_line(tmp_path: Path) -> None:
    proc = probe(tmp_path, virtual_camera=False)
    assert proc.returncode == EX_UNAVAILABLE
    assert proc.stdout == ""
    assert proc.stderr.startswith("raild camera probe: no camera found on USB") and proc.stderr.count("\n") == 1
