"""Focusing aids on the live view: focus peaking from the daemon's sharpness tiles and a
brightness histogram, each switched by its own button and remembered."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from .helpers import DaemonProcess, bench_ready, screenshot, wait_for_image, wait_for_js

pytestmark = pytest.mark.browser

TINTED_AND_ALL_PIXELS = """() => {
    const c = document.getElementById('lv-peak');
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let k = 3; k < d.length; k += 4) if (d[k] > 0) n += 1;
    return [n, d.length / 4];
}"""


def test_peaking_tints_the_sharpest_tiles_and_follows_the_zoom(page: Page, daemon: DaemonProcess) -> None:
    bench_ready(page, daemon)
    wait_for_image(page, "#lv-img")
    peak = page.locator("#lv-peak")
    expect(peak).to_be_hidden()
    button = page.get_by_role("button", name="Focus peaking: tint the sharpest parts")
    button.click()
    expect(button).to_have_attribute("aria-pressed", "true")
    expect(peak).to_be_visible()
    # The sharpest tile is 1.0 of itself: something is always tinted, never everything.
    wait_for_js(page, f"() => ({TINTED_AND_ALL_PIXELS})()[0] > 0")
    tinted, total = page.evaluate(TINTED_AND_ALL_PIXELS)
    assert 0 < tinted < total
    page.get_by_role("button", name="Show the brightness histogram").click()
    expect(page.locator("#lv-hist")).to_be_visible()
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "bench-focus-aids")
    page.get_by_role("button", name="Show the brightness histogram").click()
    # The button is not a tap on the picture: no zoom.
    assert page.locator("#lv").get_attribute("data-zoom") in (None, "fit")
    page.locator("#lv").tap(position={"x": 60, "y": 40})
    expect(page.locator("#lv-zoom")).to_be_visible()
    img_t = page.locator("#lv-img").evaluate("el => el.style.transform")
    assert img_t and peak.evaluate("el => el.style.transform") == img_t
    page.locator("#lv").tap(position={"x": 60, "y": 40})
    button.click()
    expect(button).to_have_attribute("aria-pressed", "false")
    expect(peak).to_be_hidden()


def test_histogram_reads_the_picture_and_is_remembered(page: Page, daemon: DaemonProcess) -> None:
    bench_ready(page, daemon)
    wait_for_image(page, "#lv-img")
    hist = page.locator("#lv-hist")
    button = page.get_by_role("button", name="Show the brightness histogram")
    button.click()
    expect(hist).to_be_visible()
    expect(hist).to_have_attribute("data-pixels", "6144")  # the 96 × 64 sample
    page.reload(wait_until="domcontentloaded")
    expect(page.get_by_role("button", name="Show the brightness histogram")).to_have_attribute("aria-pressed", "true")
    expect(hist).to_be_visible()
    page.get_by_role("button", name="Show the brightness histogram").click()
    expect(hist).to_be_hidden()
