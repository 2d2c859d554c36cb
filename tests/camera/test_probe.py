"""The probe's pure decisions on hand-made timings (simulated numbers, labelled so) and
recorded widget trees: which paths are timed, what is recommended, and that raild
accepts the printed section. The gphoto2 side runs in test_probe_vcam.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from raild.camera.brands import choose_plan
from raild.camera.errors import CameraUnavailable
from raild.camera.probe import (
    EX_UNAVAILABLE,
    PathResult,
    PathSpec,
    ProbeReport,
    ShotTiming,
    merge_section,
    paths_for,
    recommend,
    report_dict,
    report_text,
    section_text,
)
from raild.camera.probe_cli import run_probe_command
from raild.config import Config, ConfigError, load_config

from .test_brands import body


def simulated(spec: PathSpec, confirm_s: float, download_s: float, delete_s: float = 0.0) -> PathResult:
    """Timings made up for the test (no camera measured them)."""
    return PathResult(spec, [ShotTiming(confirm_s, download_s, delete_s, 1, 1000)] * 3)


def report_with(
    paths: list[PathResult], fixture: str = "virtual_nikon_d750", config: Config | None = None
) -> ProbeReport:
    b = body(fixture)
    plan = choose_plan((config or Config()).camera, b)
    return ProbeReport(b.model, "usb:001,002", b, plan, 3, paths)


def test_paths_cover_modes_targets_and_deleting() -> None:
    names = [s.name for s in paths_for(body("virtual_nikon_d750"))]
    assert names == [
        "capture+download to ram",
        "capture+download to card+delete",
        "capture+download to card+keep",
        "trigger+wait-for-file to ram",
        "trigger+wait-for-file to card+delete",
        "trigger+wait-for-file to card+keep",
    ]
    # Sony's labels ("sdram", "card") are understood too.
    assert len(paths_for(body("sony_alpha_handwritten"))) == 6
    # A read-only target (a Nikon Z after a firmware update) leaves only where the camera saves.
    ro = body("virtual_nikon_d750")
    ro.widgets["capturetarget"] = ro.widgets["capturetarget"].__class__("Memory card", ["Memory card"], True)
    assert [s.target for s in paths_for(ro)] == [None, None, None, None]


def test_the_fastest_path_is_recommended_and_raild_accepts_the_section(tmp_path: Path) -> None:
    paths = [
        simulated(PathSpec("download", "ram", True), 2.1, 0.9),
        simulated(PathSpec("trigger", "card", True), 0.9, 0.3, 0.05),
        simulated(PathSpec("trigger", "card", False), 0.9, 0.3),  # within 5 %: deleting wins
        simulated(PathSpec("download", "card", False), 3.0, 1.0),
    ]
    rec = recommend(report_with(paths), Config())
    assert rec.path is paths[1]
    assert rec.values["capture_mode"] == "trigger" and rec.values["capture_target"] == "card"
    assert rec.values["delete_after_download"] is True
    text = section_text(rec)
    merged = merge_section(Config(), text)
    assert merged.camera.backend == "gphoto2" and merged.camera.capture_mode == "trigger"
    # ... and as a file, through the loader the daemon uses.
    cfg_file = tmp_path / "raild.toml"
    cfg_file.write_text(text)
    loaded = load_config(cfg_file)
    assert (loaded.camera.capture_target, loaded.camera.delete_after_download) == ("card", True)


def test_keep_wins_when_clearly_faster_and_says_the_card_fills() -> None:
    paths = [
        simulated(PathSpec("trigger", "card", True), 0.9, 0.3, 0.5),
        simulated(PathSpec("trigger", "card", False), 0.9, 0.3),
    ]
    rec = recommend(report_with(paths), Config())
    assert rec.values["delete_after_download"] is False
    assert any("fills up" in r for r in rec.reasons)


def test_user_rule_overrides_are_carried_into_the_section() -> None:
    cfg = Config().with_overrides(camera={"remote_release": "off", "viewfinder": "on"})
    rec = recommend(report_with([simulated(PathSpec("download", "ram", True), 1, 1)], config=cfg), cfg)
    assert (rec.values["remote_release"], rec.values["viewfinder"]) == ("off", "on")
    assert merge_section(cfg, section_text(rec)).camera.viewfinder == "on"


def test_canon_reasons_name_the_rules() -> None:
    cfg = Config().with_overrides(camera={"capture_mode": "auto"})
    report = report_with([simulated(PathSpec("trigger", "ram", True), 1.2, 0.4)], "canon_eos_handwritten", cfg)
    rec = recommend(report, cfg)
    assert any("canon_remote_release" in r for r in rec.reasons)
    assert "remote release" in report_text(report, rec)


def test_no_working_path_gives_no_section() -> None:
    failed = PathResult(PathSpec("download", "ram", True), error="the camera refused")
    rec = recommend(report_with([failed]), Config())
    assert rec.path is None and rec.values == {}
    assert "the camera refused" in report_text(report_with([failed]), rec)


def test_report_json_is_complete() -> None:
    report = report_with([simulated(PathSpec("download", "ram", True), 1, 1)])
    doc = json.loads(json.dumps(report_dict(report, recommend(report, Config()))))
    assert doc["ok"] is True and doc["model"] == "Nikon DSC D750" and doc["brand"] == "nikon"
    assert doc["settings"]["capture target"]["value"] == "Internal RAM"
    assert doc["settings"]["remote release"] is None
    assert doc["paths"][0]["mean_s"]["total_s"] == 2.0
    assert "capturetarget" in doc["widgets"]


def test_a_bad_section_is_rejected() -> None:
    with pytest.raises(ConfigError):
        merge_section(Config(), '[camera]\ncapture_mode = "fastest"\n')


@pytest.mark.parametrize("as_json", [False, True])
def test_camera_claimed_by_gvfs_exits_with_the_fix(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], as_json: bool
) -> None:
    from raild.camera import probe_gphoto2
    from raild.camera.gphoto2_errors import translate

    def claimed(*_args: object, **_kw: object) -> None:
        raise translate(-53, "connect", "Could not claim the USB device")

    monkeypatch.setattr(probe_gphoto2, "run_probe", claimed)
    assert run_probe_command(Config(), 1, as_json) == EX_UNAVAILABLE
    out, err = capsys.readouterr()
    assert err.count("\n") == 1 and "gio mount -s gphoto2" in err and "gvfs-gphoto2-volume-monitor" in err
    assert "systemctl stop raild" in err
    if as_json:
        assert json.loads(out)["error"]["code"] == "camera_claimed"
    else:
        assert out == ""


def test_no_camera_exits_with_one_line(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from raild.camera import probe_gphoto2

    def absent(*_args: object, **_kw: object) -> None:
        raise CameraUnavailable(probe_gphoto2.NO_CAMERA)

    monkeypatch.setattr(probe_gphoto2, "run_probe", absent)
    assert run_probe_command(Config(), 1, False) == EX_UNAVAILABLE
    out, err = capsys.readouterr()
    assert out == "" and err.startswith("raild camera probe: no camera found") and err.count("\n") == 1


@pytest.mark.parametrize("shots", ["0", "51", "three"])
def test_shots_out_of_range_is_a_config_error(shots: str, capsys: pytest.CaptureFixture[str]) -> None:
    from raild.cli import main
    from raild.config import EX_CONFIG

    with pytest.raises(SystemExit) as exit_:
        main(["camera", "probe", "--shots", shots])
    assert exit_.value.code == EX_CONFIG
    assert "not a number of shots" in capsys.readouterr().err
