"""The brand rules and the pure chooser against widget trees: one recorded from libgphoto2's
virtual camera, and hand-written Canon and Sony trees (each fixture says which it is)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from raild.camera.brands import RULES, Body, brand_of, choose_plan, focus_is_manual
from raild.camera.protocol import Setting
from raild.config import CameraConfig, Config, ConfigError, validate_data

FIXTURES = Path(__file__).with_name("fixtures")


def body(name: str) -> Body:
    data = json.loads((FIXTURES / f"widgets_{name}.json").read_text())
    assert data["label"].startswith(("RECORDED", "HAND-WRITTEN"))
    widgets = {k: Setting(v["value"], v["choices"], v["readonly"]) for k, v in data["widgets"].items()}
    return Body(data["model"], widgets)


def cam(**keys: Any) -> CameraConfig:
    return Config().with_overrides(camera={"backend": "gphoto2", **keys}).camera


def names(plan: Any) -> list[str]:
    return [name for name, _ in plan.applied]


def test_brands_are_read_from_the_model_or_the_manufacturer() -> None:
    assert brand_of(body("virtual_nikon_d750")) == "nikon"
    assert brand_of(body("canon_eos_handwritten")) == "canon"
    assert brand_of(body("sony_alpha_handwritten")) == "sony"
    assert brand_of(Body("PTP camera", {"manufacturer": Setting("Canon Inc.", [])})) == "canon"
    assert brand_of(Body("Generic PTP", {})) == "other"


def test_defaults_keep_the_old_capture_and_download_path_on_every_body() -> None:
    for name in ("virtual_nikon_d750", "canon_eos_handwritten", "sony_alpha_handwritten"):
        plan = choose_plan(cam(), body(name))
        assert (plan.mode, plan.target) == ("download", "ram"), name
        assert plan.release == "capture"


def test_nikon_auto_saves_to_card_and_triggers() -> None:
    plan = choose_plan(cam(capture_mode="auto", capture_target="auto"), body("virtual_nikon_d750"))
    assert (plan.mode, plan.release, plan.target) == ("trigger", "trigger_capture", "card")
    assert names(plan) == ["nikon_card_trigger"]
    # The recorded tree's autofocus menu says "On": the user is told to focus manually.
    assert focus_is_manual(body("virtual_nikon_d750")) is False
    assert any("manual focus" in w for w in plan.warnings)
    # No viewfinder widget on this body: the rule stays out.
    assert plan.viewfinder is False


def test_nikon_rule_overridden_by_explicit_keys() -> None:
    plan = choose_plan(cam(capture_mode="download", capture_target="ram"), body("virtual_nikon_d750"))
    assert (plan.mode, plan.target, names(plan)) == ("download", "ram", [])


def test_canon_remote_release_and_viewfinder() -> None:
    plan = choose_plan(cam(capture_mode="auto"), body("canon_eos_handwritten"))
    assert (plan.mode, plan.release) == ("trigger", "eosremoterelease")
    assert names(plan) == ["canon_remote_release", "viewfinder"] and plan.viewfinder
    assert any("gphoto2 #251" in w for w in plan.warnings)  # RAM on a Canon: the card advice
    assert focus_is_manual(body("canon_eos_handwritten")) is True
    off = choose_plan(cam(capture_mode="auto", remote_release="off", viewfinder="off"), body("canon_eos_handwritten"))
    assert (off.mode, off.release, off.viewfinder, names(off)) == ("trigger", "trigger_capture", False, [])
    # "on" forces the trigger path even when capture_mode says download.
    forced = choose_plan(cam(remote_release="on"), body("canon_eos_handwritten"))
    assert (forced.mode, forced.release) == ("trigger", "eosremoterelease")


def test_remote_release_on_a_body_without_it_is_a_warning_not_a_failure() -> None:
    plan = choose_plan(cam(capture_mode="trigger", remote_release="on"), body("virtual_nikon_d750"))
    assert plan.release == "trigger_capture"
    assert any("no eosremoterelease" in w for w in plan.warnings)


def test_sony_half_press_allows_the_focus_timeout_and_reconnects() -> None:
    plan = choose_plan(cam(capture_mode="auto"), body("sony_alpha_handwritten"))
    assert plan.mode == "trigger" and plan.focus_wait_s >= 1.0 and plan.reconnect_after_timeout
    assert names(plan) == ["sony_half_press"] and "manual focus" in plan.applied[0][1]
    off = choose_plan(cam(capture_mode="auto", sony_half_press="off"), body("sony_alpha_handwritten"))
    assert off.focus_wait_s == 0 and not off.reconnect_after_timeout
    # Sony's capture target labels ("sdram", "card") are still recognised.
    assert choose_plan(cam(capture_target="card"), body("sony_alpha_handwritten")).target == "card"


def test_every_rule_names_an_existing_config_key() -> None:
    keys = set(CameraConfig.model_fields)
    for rule in RULES:
        assert rule.key in keys, rule
        assert rule.source


@pytest.mark.parametrize(
    ("key", "value"),
    [("remote_release", "yes"), ("viewfinder", True), ("sony_half_press", 1), ("capture_mode", "fast")],
)
def test_rule_keys_are_validated(key: str, value: Any) -> None:
    data = Config().model_dump()
    data["camera"][key] = value
    with pytest.raises(ConfigError) as err:
        validate_data(data, "test.toml")
    assert f"camera.{key}" in err.value.problems[0]


def test_rule_keys_accept_their_values() -> None:
    for value in ("auto", "on", "off"):
        assert cam(remote_release=value, viewfinder=value, sony_half_press=value).viewfinder == value
    assert cam(capture_mode="auto", capture_target="auto").capture_target == "auto"
