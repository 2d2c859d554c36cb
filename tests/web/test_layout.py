"""Phone ergonomics: touch targets, labels, the stop bar on every screen, themes."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from .helpers import DaemonProcess, login_by_fragment, screenshot, wait_for_image

pytestmark = pytest.mark.browser

MIN_TOUCH_PX = 44

# Every visible control: its size, and the name a screen reader would announce.
_CONTROLS_JS = """
() => [...document.querySelectorAll('button, input, select, a.button, .seg label, summary')]
  .filter((el) => el.offsetParent !== null && getComputedStyle(el).visibility !== 'hidden')
  .filter((el) => !(el.matches('.seg input')))
  .map((el) => {
    // A checkbox inside its <label> is tapped through the whole label.
    const target = el.matches('input[type=checkbox]') && el.closest('label') ? el.closest('label') : el;
    const r = target.getBoundingClientRect();
    const labelled = el.getAttribute('aria-label') || (el.labels && el.labels.length)
      || el.textContent.trim() || el.closest('label');
    return {what: el.id || el.outerHTML.slice(0, 60), w: r.width, h: r.height, named: Boolean(labelled)};
  })
"""


@pytest.mark.parametrize("tab", ["Bench", "Stack", "Stacks"])
def test_every_control_is_big_enough_and_labelled(page: Page, daemon: DaemonProcess, tab: str) -> None:
    login_by_fragment(page, daemon)
    page.get_by_role("tab", name=tab, exact=True).click()
    for details in page.locator("details").all():
        if details.is_visible():
            details.locator("summary").click()
    controls = page.evaluate(_CONTROLS_JS)
    assert len(controls) >= 6
    small = [c for c in controls if c["h"] < MIN_TOUCH_PX or c["w"] < MIN_TOUCH_PX]
    unnamed = [c["what"] for c in controls if not c["named"]]
    assert not small, f"touch targets under {MIN_TOUCH_PX} px on {tab}: {small}"
    assert not unnamed, f"controls without a label on {tab}: {unnamed}"
    # The stop button is on screen (not just in the page) on every tab.
    box = page.locator("#stop").bounding_box()
    assert box is not None and 0 <= box["y"] and box["y"] + box["height"] <= 844


def test_light_theme_is_remembered(page: Page, daemon: DaemonProcess) -> None:
    login_by_fragment(page, daemon)
    html = page.locator("html")
    expect(html).to_have_attribute("data-theme", "dark")
    page.get_by_role("button", name="Use the light theme for sunlight").click()
    expect(html).to_have_attribute("data-theme", "light")
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(255, 255, 255)"
    wait_for_image(page, "#lv-img")
    screenshot(page, "rig-light")
    page.reload(wait_until="domcontentloaded")
    expect(html).to_have_attribute("data-theme", "light")
    page.get_by_role("button", name="Use the dark theme").click()
    expect(html).to_have_attribute("data-theme", "dark")


def test_assets_are_local_and_installable(page: Page, daemon: DaemonProcess) -> None:
    requested: list[str] = []
    page.on("request", lambda req: requested.append(req.url))
    login_by_fragment(page, daemon)
    page.wait_for_load_state("domcontentloaded")
    foreign = [u for u in requested if not u.startswith(daemon.url) and not u.startswith(("blob:", "data:"))]
    assert not foreign, f"requests leaving the Pi: {foreign}"
    manifest = page.request.get(f"{daemon.url}/manifest.webmanifest").json()
    sizes = {icon["sizes"] for icon in manifest["icons"]}
    assert {"192x192", "512x512"} <= sizes
    for icon in manifest["icons"]:
        r = page.request.get(f"{daemon.url}/{icon['src']}")
        assert r.ok, icon["src"]
        assert r.headers["content-type"].startswith(icon["type"])


def test_tabs_follow_the_arrow_keys(page: Page, daemon: DaemonProcess) -> None:
    login_by_fragment(page, daemon)
    page.get_by_role("tab", name="Bench", exact=True).focus()
    page.keyboard.press("ArrowRight")
    expect(page.get_by_role("tab", name="Stack", exact=True)).to_have_attribute("aria-selected", "true")
    expect(page.locator("#panel-stack")).to_be_visible()
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")
    expect(page.get_by_role("tab", name="Stacks", exact=True)).to_be_focused()
    expect(page.locator("#panel-stacks")).to_be_visible()
    expect(page.locator("#panel-rig")).to_be_hidden()
