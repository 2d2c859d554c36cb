"""The plan form: mm or µm, distance, a frame count instead of a step, the last step,
shot interval, the optics options, presets, time-lapse, and STOP pausing a stack."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from .helpers import DaemonProcess, home_rail, login_by_fragment

pytestmark = pytest.mark.browser


def _stack_screen(page: Page, daemon: DaemonProcess) -> None:
    login_by_fragment(page, daemon)
    page.get_by_role("tab", name="Stack", exact=True).click()


def _cancel_running(daemon: DaemonProcess) -> None:
    for stack in daemon.api("GET", "stacks").json():
        if stack["state"] in ("queued", "running", "pausing", "paused"):
            daemon.api("POST", f"stacks/{stack['id']}/cancel")


def test_millimetres_and_distance(page: Page, daemon: DaemonProcess) -> None:
    _stack_screen(page, daemon)
    page.get_by_label("Start (µm)").fill("1000")
    page.locator("#plan-unit label", has_text="mm").click()
    start = page.get_by_label("Start (mm)")
    expect(start).to_have_value("1")
    page.get_by_label("End (mm)").fill("1.4")
    page.get_by_label("Step (µm)").fill("100")
    summary = page.locator("#plan-summary")
    expect(summary).to_contain_text("5 frames over 400 µm")
    expect(page.get_by_label(re.compile(r"^Distance \(mm\)"))).to_have_value("0.4")
    page.get_by_label(re.compile(r"^Distance \(mm\)")).fill("0.8")
    expect(page.get_by_label("End (mm)")).to_have_value("1.8")
    expect(summary).to_contain_text("9 frames over 800 µm")
    expect(page.get_by_label("Frames", exact=True)).to_have_value("9")
    page.locator("#plan-unit label", has_text="µm").click()
    expect(page.get_by_label("End (µm)")).to_have_value("1800")


def test_frame_count_sets_the_step_and_is_what_the_daemon_gets(page: Page, daemon: DaemonProcess) -> None:
    _cancel_running(daemon)
    _stack_screen(page, daemon)
    home_rail(page, daemon)
    page.get_by_role("tab", name="Stack", exact=True).click()
    page.get_by_label("Start (µm)").fill("1000")
    page.get_by_label("End (µm)").fill("1250")
    page.get_by_label("Step (µm)").fill("100")
    # Four positions: three steps of 100 µm would overshoot, so the last one is 50 µm.
    expect(page.locator("#plan-summary")).to_contain_text("4 frames over 250 µm")
    expect(page.locator("#plan-detail")).to_contain_text("last step 50 µm")
    page.get_by_label("Frames", exact=True).fill("6")
    expect(page.get_by_label("Step (µm)")).to_have_value("50")
    expect(page.locator("#plan-summary")).to_contain_text("6 frames over 250 µm")
    page.get_by_label("Shot interval (ms)").fill("30")
    page.get_by_label("Settle (ms)").fill("20")
    page.get_by_label("Name (optional)").fill("by count")
    page.get_by_role("button", name="Start stack").click()
    expect(page.locator("#run-name")).to_have_text("by count")
    stack = daemon.api("GET", "stacks").json()[0]
    assert stack["name"] == "by count"
    assert stack["frames"] == 6
    assert stack["plan"]["shot_interval_ms"] == 30
    assert stack["plan"]["step_um"] == pytest.approx(50, abs=0.5)
    expect(page.locator("#run-state")).to_have_text("completed", timeout=30_000)


def test_optics_options_are_sent(page: Page, daemon: DaemonProcess) -> None:
    _stack_screen(page, daemon)
    page.get_by_text("Step from optics").click()
    page.get_by_label("Magnification ×").fill("1")
    page.get_by_label("Aperture f/").fill("8")
    page.get_by_label("Sensor (CoC)").select_option("20")
    page.get_by_label("Overlap %").fill("25")
    page.get_by_role("button", name="Compute the step from magnification and aperture").click()
    expected = daemon.api(
        "GET", "optics/step", params={"magnification": 1, "aperture": 8, "coc_um": 20, "overlap": 0.25}
    ).json()
    expect(page.get_by_label("Step (µm)")).to_have_value(f"{round(expected['step_um'], 1):g}")


def test_presets_save_and_load(page: Page, daemon: DaemonProcess) -> None:
    _stack_screen(page, daemon)
    page.get_by_label("Step (µm)").fill("37")
    page.get_by_label("Settle (ms)").fill("321")
    page.get_by_text("Presets", exact=True).click()
    page.get_by_label("Save as").fill("beetle 5x")
    page.get_by_role("button", name="Save step and timing as a preset").click()
    expect(page.locator("#preset-note")).to_contain_text("Saved")
    names = [p["name"] for p in daemon.api("GET", "presets").json()]
    assert "beetle 5x" in names
    page.get_by_label("Step (µm)").fill("5")
    page.get_by_label("Settle (ms)").fill("1")
    page.get_by_label("Preset", exact=True).select_option("beetle 5x")
    page.get_by_role("button", name="Load the chosen preset into the form").click()
    expect(page.get_by_label("Step (µm)")).to_have_value("37")
    expect(page.get_by_label("Settle (ms)")).to_have_value("321")
    page.get_by_role("button", name="Delete the chosen preset").click()
    expect(page.locator("#preset-note")).to_contain_text("Deleted")


def test_time_lapse_repeat_is_sent(page: Page, daemon: DaemonProcess) -> None:
    _cancel_running(daemon)
    _stack_screen(page, daemon)
    home_rail(page, daemon)
    page.get_by_role("tab", name="Stack", exact=True).click()
    page.get_by_label("Start (µm)").fill("1000")
    page.get_by_label("End (µm)").fill("1100")
    page.get_by_label("Step (µm)").fill("50")
    page.get_by_label("Settle (ms)").fill("20")
    page.get_by_text("Time-lapse: repeat the stack").click()
    page.get_by_label("Repeat this stack").check()
    page.get_by_label("Runs (2–999)").fill("2")
    page.get_by_label("Every (s)").fill("1")
    expect(page.locator("#plan-detail")).to_contain_text("2 runs every 1 s")
    page.get_by_role("button", name="Start stack").click()
    expect(page.locator("#run-card")).to_be_visible()
    stack = daemon.api("GET", "stacks").json()[0]
    assert stack.get("series", {}).get("of") == 2
    _cancel_running(daemon)


def test_stop_pauses_a_running_stack(page: Page, daemon: DaemonProcess) -> None:
    _cancel_running(daemon)
    _stack_screen(page, daemon)
    home_rail(page, daemon)
    r = daemon.api("POST", "stacks", json={"start_um": 1000, "end_um": 4000, "step_um": 100, "settle_ms": 200})
    assert r.status_code == 201, r.text
    page.get_by_role("tab", name="Stack", exact=True).click()
    state = page.locator("#run-state")
    expect(state).to_have_text("running")
    page.get_by_role("button", name="Stop all motion and the stack").click()
    expect(state).not_to_have_text("running", timeout=10_000)
    expect(state).to_have_text("paused", timeout=10_000)
    expect(page.locator("#run-explain")).to_contain_text("STOP pauses a stack")
    expect(page.get_by_role("button", name="Resume the stack")).to_be_visible()
    page.get_by_role("button", name="Cancel the stack").click()
    expect(state).to_have_text("cancelled", timeout=10_000)


def test_distance_from_here_summary_follows_the_carriage(page: Page, daemon: DaemonProcess) -> None:
    _stack_screen(page, daemon)
    home_rail(page, daemon)
    page.get_by_role("tab", name="Stack", exact=True).click()
    page.get_by_label(re.compile("Start where the rail is")).check()
    expect(page.get_by_label("Start (µm)")).to_be_disabled()
    page.get_by_label(re.compile(r"^Distance \(µm\)")).fill("-300")
    page.get_by_label("Step (µm)").fill("100")
    expect(page.locator("#plan-summary")).to_contain_text("4 frames over 300 µm")
    page.get_by_label(re.compile("Start where the rail is")).uncheck()
    expect(page.get_by_label("Start (µm)")).to_be_enabled()


def test_distance_from_here_is_what_the_daemon_gets(page: Page, daemon: DaemonProcess) -> None:
    _cancel_running(daemon)
    _stack_screen(page, daemon)
    home_rail(page, daemon)
    here_um = daemon.status()["position_um"]
    page.get_by_role("tab", name="Stack", exact=True).click()
    page.get_by_label(re.compile("Start where the rail is")).check()
    page.get_by_label(re.compile(r"^Distance \(µm\)")).fill("200")
    page.get_by_label("Step (µm)").fill("100")
    page.get_by_label("Settle (ms)").fill("20")
    page.get_by_role("button", name="Start stack").click()
    expect(page.locator("#run-card")).to_be_visible()
    stack = daemon.api("GET", "stacks").json()[0]
    assert stack["positions_um"][0] == pytest.approx(here_um, abs=1)
    assert stack["positions_um"][-1] == pytest.approx(here_um + 200, abs=1)
    _cancel_running(daemon)
