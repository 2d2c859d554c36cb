"""The bench screen: hold-to-jog, step taps, go-to, marks, refusals beside their control,
the rail's state explained, keyboard shortcuts."""

from __future__ import annotations

import itertools
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Route, expect

from .helpers import (
    DaemonProcess,
    bench_ready,
    free_port,
    login_by_fragment,
    wait_for_image,
    wait_for_js,
    wait_for_shown_position,
)

pytestmark = pytest.mark.browser


def _press_and_hold(page: Page, selector: str) -> None:
    box = page.locator(selector).bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()


def _wait_until_moving_then_at_rest(daemon: DaemonProcess, *, deadline_s: float) -> float:
    """Seconds from now until the daemon reports the rail idle again."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < deadline_s:
        if daemon.status()["state"] == "idle":
            return time.monotonic() - t0
        time.sleep(0.05)
    raise AssertionError(f"the rail was still moving after {deadline_s} s")


def test_hold_to_jog_moves_while_held_and_stops_on_release(page: Page, daemon: DaemonProcess) -> None:
    bench_ready(page, daemon)
    page.locator("#jog-speed").select_option(label="medium")
    start_um = daemon.status()["position_um"]
    jogs: list[str] = []
    page.on("request", lambda r: jogs.append(r.url) if r.url.endswith("/motion/jog") else None)
    _press_and_hold(page, "#jog-plus")
    expect(page.locator("#rig-state")).to_have_text("moving")
    wait_for_js(
        page,
        "(s) => parseFloat(document.getElementById('pos-um').textContent.replace(/,/g, '')) > s + 300",
        start_um,
    )
    assert len(jogs) >= 2, "a hold renews its jog"
    page.mouse.up()
    expect(page.locator("#rig-state")).to_have_text("idle", timeout=3_000)
    stopped = daemon.status()
    assert stopped["position_known"] is True
    assert stopped["position_um"] > start_um + 300
    page.wait_for_timeout(300)
    assert daemon.status()["position_um"] == pytest.approx(stopped["position_um"], abs=0.5)


def test_hold_to_jog_stops_when_the_connection_is_lost(page: Page, daemon: DaemonProcess) -> None:
    bench_ready(page, daemon)
    page.locator("#jog-speed").select_option(label="slow")
    _press_and_hold(page, "#jog-plus")
    expect(page.locator("#rig-state")).to_have_text("moving")
    page.context.set_offline(True)  # no more renewals, and no stop either
    try:
        # The daemon's dead-man (500 ms) plus a deceleration.
        assert _wait_until_moving_then_at_rest(daemon, deadline_s=3.0) < 3.0
    finally:
        page.mouse.up()
        page.context.set_offline(False)


def test_taps_step_and_taps_during_a_move_are_kept(page: Page, daemon: DaemonProcess) -> None:
    bench_ready(page, daemon)
    page.get_by_role("radio", name="100 µm", exact=True).check()
    start_um = daemon.status()["position_um"]
    plus = page.get_by_role("button", name=re.compile("Jog 100 µm toward the far end"))
    for _ in range(3):
        plus.click()
    wait_for_shown_position(page, start_um + 300)
    expect(page.locator("#rig-state")).to_have_text("idle")
    assert daemon.status()["position_um"] == pytest.approx(start_um + 300, abs=0.5)


def test_go_to_mark_and_go_back_to_the_marks(page: Page, daemon: DaemonProcess) -> None:
    bench_ready(page, daemon)
    goto = page.get_by_label("Go to (mm)")
    goto.fill("2")
    goto.press("Enter")
    wait_for_shown_position(page, 2000)
    page.get_by_role("button", name="Mark start at the current position").click()
    goto.fill("2400 µm")
    page.get_by_role("button", name="Go to the typed position").click()
    wait_for_shown_position(page, 2400)
    expect(page.locator("#rig-state")).to_have_text("idle")
    page.get_by_role("button", name="Mark end at the current position").click()
    expect(page.locator("#bench-plan")).to_contain_text("Start 2.000 mm → end 2.400 mm")

    page.get_by_role("button", name="Go to the marked start").click()
    wait_for_shown_position(page, 2000)
    expect(page.locator("#rig-state")).to_have_text("idle")
    page.get_by_role("button", name="Go to the marked end").click()
    wait_for_shown_position(page, 2400)
    # The marks are the plan's start and end.
    page.get_by_role("tab", name="Stack", exact=True).click()
    expect(page.get_by_label("Start (µm)")).to_have_value("2000")
    expect(page.get_by_label("End (µm)")).to_have_value("2400")


def _visible_above_the_stop_bar(page: Page, selector: str) -> None:
    box = page.locator(selector).bounding_box()
    bar = page.locator("#controls").bounding_box()
    assert box is not None and bar is not None
    viewport = page.viewport_size
    assert viewport is not None
    assert box["y"] >= 0
    if bar["width"] > viewport["width"] / 2:  # a bottom bar, not the landscape side column
        assert box["y"] + box["height"] <= bar["y"], f"{selector} is under the stop bar"
    assert box["y"] + box["height"] <= viewport["height"]


def test_refusals_are_sentences_beside_the_control(page: Page, daemon: DaemonProcess) -> None:
    bench_ready(page, daemon)
    goto = page.get_by_label("Go to (mm)")
    goto.fill("250")  # beyond the 100 mm travel
    goto.press("Enter")
    refusal = page.locator("#goto-form + .refusal")
    expect(refusal).to_be_visible()
    text = refusal.text_content() or ""
    assert "/api" not in text and "POST" not in text, text
    assert re.match(r"^[A-Z0-9].*\.$", text), f"not a sentence: {text!r}"
    _visible_above_the_stop_bar(page, "#goto-form + .refusal")
    goto.fill("nonsense")
    goto.press("Enter")
    expect(refusal).to_contain_text("Type a position")


def test_latched_rail_refuses_a_step_with_a_visible_sentence(page: Page, daemon: DaemonProcess) -> None:
    bench_ready(page, daemon)
    daemon.api("POST", "motion/estop").raise_for_status()
    expect(page.locator("#latch")).to_be_visible()
    try:
        page.get_by_role("button", name=re.compile("toward the far end")).click()
        refusal = page.locator("#jog-pad + .refusal")
        expect(refusal).to_be_visible()
        assert "/api" not in (refusal.text_content() or "")
        _visible_above_the_stop_bar(page, "#jog-pad + .refusal")
    finally:
        daemon.api("POST", "motion/reset")


def test_motor_off_and_unknown_position_are_explained(page: Page, daemon: DaemonProcess) -> None:
    bench_ready(page, daemon)
    explain = page.locator("#rail-explain")
    daemon.api("POST", "motion/motor", json={"enabled": True}).raise_for_status()
    expect(explain).to_be_hidden()
    daemon.api("POST", "motion/motor", json={"enabled": False}).raise_for_status()
    expect(explain).to_be_visible()
    expect(explain).to_contain_text(re.compile("Motor (switched )?off"))
    if not daemon.status()["position_known"]:
        expect(explain).to_contain_text("Position unknown")
        expect(page.get_by_role("button", name="Home the rail now")).to_be_visible()
    daemon.api("POST", "motion/motor", json={"enabled": True}).raise_for_status()


def test_homing_shows_progress_and_unknown_position_says_what_to_do(browser: Browser, tmp_path: Path) -> None:
    fresh = DaemonProcess(tmp_path, free_port())
    fresh.start()
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    try:
        page = ctx.new_page()
        login_by_fragment(page, fresh)
        explain = page.locator("#rail-explain")
        expect(explain).to_contain_text("Position unknown")
        expect(explain).to_contain_text("home the rail")
        page.get_by_role("button", name="Home the rail now").click()
        expect(explain).to_contain_text("Homing")
        expect(page.locator("#homing-progress")).to_be_visible()
        expect(page.locator("#homed-badge")).to_have_text("homed", timeout=30_000)
        expect(explain).to_be_hidden()
    finally:
        ctx.close()
        fresh.stop()


@pytest.fixture
def desktop(browser: Browser) -> Iterator[Page]:
    ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    ctx.close()
    assert not errors, f"uncaught errors in the page: {errors}"


def test_keyboard_steps_marks_and_stops(desktop: Page, daemon: DaemonProcess) -> None:
    page = desktop
    bench_ready(page, daemon)
    expect(page.locator(".kbd-hint")).to_be_visible()
    page.get_by_role("radio", name="10 µm", exact=True).check()
    page.locator("body").click(position={"x": 5, "y": 400})  # focus away from the radio
    start_um = daemon.status()["position_um"]
    page.keyboard.press("ArrowRight")
    wait_for_shown_position(page, start_um + 10)
    expect(page.locator("#rig-state")).to_have_text("idle")
    page.keyboard.press("s")
    expect(page.locator("#toast")).to_contain_text("Start marked")
    page.keyboard.press("ArrowLeft")
    wait_for_shown_position(page, start_um)
    expect(page.locator("#rig-state")).to_have_text("idle")
    page.keyboard.press("e")
    expect(page.locator("#bench-plan")).to_contain_text(f"end {start_um / 1000:.3f} mm")
    # Space stops a move started elsewhere.
    daemon.api("POST", "motion/move", json={"to_um": 90_000}).raise_for_status()
    expect(page.locator("#rig-state")).to_have_text("moving")
    page.keyboard.press(" ")
    expect(page.locator("#rig-state")).to_have_text("idle", timeout=5_000)
    assert daemon.status()["position_um"] < 80_000


def test_holding_an_arrow_key_jogs_until_released(desktop: Page, daemon: DaemonProcess) -> None:
    page = desktop
    bench_ready(page, daemon)
    page.locator("body").click(position={"x": 5, "y": 400})
    start_um = daemon.status()["position_um"]
    page.keyboard.down("ArrowRight")
    expect(page.locator("#rig-state")).to_have_text("moving")
    page.wait_for_timeout(600)
    page.keyboard.up("ArrowRight")
    expect(page.locator("#rig-state")).to_have_text("idle", timeout=3_000)
    assert daemon.status()["position_um"] > start_um + 20


def test_tap_zooms_the_live_view_to_one_to_one_and_back(page: Page, daemon: DaemonProcess) -> None:
    login_by_fragment(page, daemon)
    wait_for_image(page, "#lv-img", timeout_ms=10_000)
    lv = page.locator("#lv")
    lv.tap(position={"x": 60, "y": 40})
    expect(page.locator("#lv-zoom")).to_be_visible()
    expect(page.locator("#lv-zoom")).to_contain_text("1:1")
    natural, shown = page.evaluate(
        "() => { const i = document.getElementById('lv-img');"
        " return [i.naturalWidth, i.getBoundingClientRect().width]; }"
    )
    # At 1:1 the picture's long side covers (about) its pixel count in CSS pixels.
    assert shown >= natural * 0.95
    lv.tap(position={"x": 60, "y": 40})
    expect(page.locator("#lv-zoom")).to_be_hidden()
    assert lv.get_attribute("data-zoom") == "fit"


def test_hold_renews_the_jog_and_release_stops(page: Page, daemon: DaemonProcess) -> None:
    """The page's side of hold-to-jog: a hold sends a jog about every 200 ms (inside
    the 500 ms dead-man) and a release sends a stop. The jog route is answered by the
    test here (a stand-in, not the daemon's jog), so the gaps are the page's own."""
    jogs: list[float] = []
    stops: list[float] = []

    def jog(route: Route) -> None:
        jogs.append(time.monotonic())
        assert route.request.post_data_json["direction"] == "-"
        route.fulfill(status=202, json={"jogging": True})

    page.route("**/api/v1/motion/jog", jog)
    page.on("request", lambda r: stops.append(time.monotonic()) if r.url.endswith("/motion/stop") else None)
    bench_ready(page, daemon)
    _press_and_hold(page, "#jog-minus")
    page.wait_for_timeout(1_300)  # the length of the hold
    with page.expect_request(lambda r: r.url.endswith("/motion/stop"), timeout=2_000):
        page.mouse.up()
    assert len(jogs) >= 4, f"only {len(jogs)} jog requests in a 1.3 s hold"
    gaps = [b - a for a, b in itertools.pairwise(jogs)]
    assert max(gaps) < 0.45, f"a renewal came too late for a 500 ms dead-man: {gaps}"
    assert stops and stops[-1] >= jogs[-1], "no stop after the release"
    # The hold was not also taken for a tap: no step move.
    assert daemon.status()["state"] == "idle"


def test_a_cancelled_touch_stops_the_jog(page: Page, daemon: DaemonProcess) -> None:
    """pointercancel (the phone takes the gesture over, a call comes in) sends a stop."""
    stops: list[str] = []

    page.route("**/api/v1/motion/jog", lambda route: route.fulfill(status=202, json={}))
    page.on("request", lambda r: stops.append(r.url) if r.url.endswith("/motion/stop") else None)
    bench_ready(page, daemon)
    button = page.locator("#jog-plus")
    button.dispatch_event("pointerdown", {"pointerId": 7, "button": 0, "isPrimary": True, "pointerType": "touch"})
    page.wait_for_timeout(600)  # held past the tap time: a jog
    with page.expect_request(lambda r: r.url.endswith("/motion/stop"), timeout=2_000):
        button.dispatch_event("pointercancel", {"pointerId": 7, "pointerType": "touch"})
    assert stops


def test_pinch_zooms_the_live_view(page: Page, daemon: DaemonProcess) -> None:
    login_by_fragment(page, daemon)
    wait_for_image(page, "#lv-img", timeout_ms=10_000)
    lv = page.locator("#lv")
    box = lv.bounding_box()
    assert box is not None
    y = box["y"] + box["height"] / 2
    x0 = box["x"] + box["width"] / 2

    def pointer(kind: str, pid: int, x: float) -> None:
        lv.dispatch_event(kind, {"pointerId": pid, "clientX": x, "clientY": y, "pointerType": "touch", "button": 0})

    pointer("pointerdown", 1, x0 - 40)
    pointer("pointerdown", 2, x0 + 40)
    pointer("pointermove", 2, x0 + 120)  # fingers twice as far apart
    pointer("pointerup", 2, x0 + 120)
    pointer("pointerup", 1, x0 - 40)
    zoom = lv.get_attribute("data-zoom")
    assert zoom not in (None, "fit") and float(zoom) == pytest.approx(2.0, abs=0.05)
    expect(page.locator("#lv-zoom")).to_be_visible()
