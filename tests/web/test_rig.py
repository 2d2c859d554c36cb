"""Rig screen against the simulated rig: jog, stop, e-stop, live view, camera settings."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from .helpers import (
    DaemonProcess,
    free_port,
    home_rail,
    login_by_fragment,
    screenshot,
    shown_position_um,
    wait_for_image,
    wait_for_shown_position,
)

# The page shows 0.1 µm; anything closer than that to the daemon's figure is the same.
SHOWN_TOL_UM = 0.06

pytestmark = pytest.mark.browser


def test_jog_moves_the_rail_and_the_position_follows(page: Page, daemon: DaemonProcess) -> None:
    login_by_fragment(page, daemon)
    home_rail(page, daemon)
    start_um = daemon.status()["position_um"]
    wait_for_shown_position(page, start_um, SHOWN_TOL_UM)

    streams: list[str] = []
    page.on("request", lambda r: streams.append(r.url) if "/camera/liveview" in r.url else None)
    page.get_by_role("radio", name="1 mm", exact=True).check()
    expect(page.locator("#jog-plus")).to_contain_text("1 mm")
    page.get_by_role("button", name=re.compile("Jog 1 mm toward the far end")).click()
    wait_for_shown_position(page, start_um + 1000)

    page.get_by_role("radio", name="100 µm", exact=True).check()
    page.get_by_role("button", name=re.compile("toward the near end")).click()
    wait_for_shown_position(page, start_um + 900)
    expect(page.locator("#rig-state")).to_have_text("idle")
    # What the page shows is what the daemon believes, in both units.
    status = daemon.status()
    assert status["position_um"] == pytest.approx(start_um + 900, abs=0.5)
    assert shown_position_um(page) == pytest.approx(status["position_um"], abs=SHOWN_TOL_UM)
    # Position events at 10 Hz while moving must not reopen the live view stream.
    assert len(streams) <= 1, streams
    assert page.locator("#pos-mm").text_content() == f"{status['position_um'] / 1000:.3f}"
    screenshot(page, "rig")


def test_jog_step_is_remembered(page: Page, daemon: DaemonProcess) -> None:
    login_by_fragment(page, daemon)
    page.get_by_role("radio", name="10 µm", exact=True).check()
    page.reload(wait_until="domcontentloaded")
    expect(page.locator('input[name="jog-step"][value="10"]')).to_be_checked()


def test_stop_halts_a_move_in_one_tap(page: Page, daemon: DaemonProcess) -> None:
    login_by_fragment(page, daemon)
    home_rail(page, daemon)
    page.get_by_role("tab", name="Stacks", exact=True).click()  # the stop bar is on every screen
    # A long move, started the way a script would start it.
    daemon.api("POST", "motion/move", json={"to_um": 90_000}).raise_for_status()
    expect(page.locator("#rig-state")).to_have_text("moving")
    page.get_by_role("button", name="Stop all motion and the stack").click()
    expect(page.locator("#rig-state")).to_have_text("idle", timeout=5_000)
    stopped = daemon.status()
    assert stopped["position_known"]  # a stop decelerates and always keeps the position exact
    stopped_um = stopped["position_um"]
    assert stopped_um < 80_000, "the move ran on after STOP"
    page.wait_for_timeout(500)
    assert daemon.status()["position_um"] == pytest.approx(stopped_um, abs=0.5)
    page.get_by_role("tab", name="Bench", exact=True).click()
    wait_for_shown_position(page, stopped_um, SHOWN_TOL_UM)
    # A controlled stop keeps the position exact and homed.
    expect(page.locator("#homed-badge")).to_have_text("homed")


def test_estop_latches_until_reset(page: Page, daemon: DaemonProcess) -> None:
    login_by_fragment(page, daemon)
    home_rail(page, daemon)
    page.get_by_role("button", name=re.compile("^Emergency stop")).click()
    latch = page.locator("#latch")
    expect(latch).to_be_visible()
    expect(latch).to_contain_text("E-stop latched")
    expect(page.locator("#rig-state")).to_have_text("estop")
    expect(page.locator("#btn-motor")).to_have_text("Motor off")
    assert daemon.api("POST", "motion/move", json={"by_um": 10}).status_code == 409
    page.get_by_role("button", name="Reset the latch").click()
    expect(latch).to_be_hidden()
    assert daemon.status()["state"] != "estop"


def test_live_view_shows_camera_frames(page: Page, daemon: DaemonProcess) -> None:
    login_by_fragment(page, daemon)
    page.get_by_role("tab", name="Bench", exact=True).click()
    img = page.locator("#lv-img")
    expect(img).to_have_attribute("src", re.compile(r"/api/v1/camera/liveview"))
    wait_for_image(page, "#lv-img", timeout_ms=10_000)
    expect(page.locator("#lv-note")).to_be_hidden()
    # Leaving the Rig screen closes the stream, to spare the Pi.
    page.get_by_role("tab", name="Stacks", exact=True).click()
    expect(img).not_to_have_attribute("src", re.compile("liveview"))


def test_camera_settings_offer_the_cameras_choices(page: Page, daemon: DaemonProcess) -> None:
    settings = daemon.api("GET", "camera/settings").json()
    writable = [n for n, s in settings.items() if not s["readonly"] and len(s["choices"]) > 1]
    assert writable, f"the simulated camera offers no writable setting: {settings}"
    name = writable[0]
    login_by_fragment(page, daemon)
    page.locator("#camera-details summary").click()
    select = page.locator(f"#cam-{name}")
    expect(select).to_be_visible()
    options = select.locator("option").all_text_contents()
    assert options == [str(c) for c in settings[name]["choices"]]
    expect(select).to_have_value(str(settings[name]["value"]))
    new_value = next(str(c) for c in settings[name]["choices"] if str(c) != str(settings[name]["value"]))
    select.select_option(new_value)
    expect(select).to_be_enabled()
    assert daemon.api("GET", "camera/settings").json()[name]["value"] == new_value


@pytest.fixture
def wired_daemon(tmp_path: Path) -> Iterator[DaemonProcess]:
    """A rig with a wired shutter only: that camera has no preview at all."""
    proc = DaemonProcess(tmp_path, free_port(), extra_toml='[camera]\nbackend = "gpio"\n')
    proc.start()
    yield proc
    proc.stop()


def test_no_live_view_from_a_wired_camera_says_so(page: Page, wired_daemon: DaemonProcess) -> None:
    login_by_fragment(page, wired_daemon)
    note = page.locator("#lv-note")
    expect(note).to_be_visible(timeout=10_000)
    expect(note).to_contain_text("No live view from this camera")


def test_test_shot_shows_the_picture(page: Page, daemon: DaemonProcess) -> None:
    login_by_fragment(page, daemon)
    page.locator("#camera-details summary").click()
    page.get_by_role("button", name="Take a test shot").click()
    expect(page.locator("#toast")).to_have_text("Test shot taken")
    shot = page.locator("#test-shot-img")
    expect(shot).to_be_visible()
    expect(shot).to_have_attribute("src", re.compile(r"/api/v1/camera/captures/.+\.jpe?g$"))
    wait_for_image(page, "#test-shot-img")
