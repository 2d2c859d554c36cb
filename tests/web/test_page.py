"""The page as a whole: every bench control on one screen in portrait, landscape and on
a desktop, page weight, no console errors, nothing fetched from elsewhere, tap targets."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Error, Page, Response, expect

from .helpers import DaemonProcess, bench_ready, login_by_fragment, screenshot, wait_for_image, wait_for_shown_position

pytestmark = pytest.mark.browser

MAX_FIRST_LOAD_BYTES = 200 * 1024
MIN_TOUCH_PX = 44

SIZES = {
    "portrait": ({"width": 390, "height": 844}, True),
    "landscape": ({"width": 844, "height": 390}, True),
    "desktop": ({"width": 1280, "height": 800}, False),
}

# What the bench promises on one screen, without scrolling.
BENCH_PARTS = [
    "#lv",
    "#pos-mm",
    "#jog-minus",
    "#jog-plus",
    "#jog-speed",
    "#jog-step",
    "#goto-form",
    "#mark-start",
    "#mark-end",
    "#goto-start",
    "#goto-end",
    "#bench-plan",
    "#stop",
    "#estop",
]


@pytest.fixture(params=list(SIZES))
def sized(request: pytest.FixtureRequest, browser: Browser) -> Iterator[tuple[str, Page]]:
    viewport, mobile = SIZES[request.param]
    ctx: BrowserContext = browser.new_context(viewport=viewport, is_mobile=mobile, has_touch=mobile)
    page = ctx.new_page()
    yield request.param, page
    ctx.close()


def test_the_whole_bench_fits_one_screen(sized: tuple[str, Page], daemon: DaemonProcess) -> None:
    name, page = sized
    bench_ready(page, daemon)
    # A marked plan, so the summary line is the long one.
    page.get_by_label("Go to (mm)").fill("3")
    page.get_by_label("Go to (mm)").press("Enter")
    wait_for_shown_position(page, 3000)
    expect(page.locator("#rig-state")).to_have_text("idle")
    page.get_by_role("button", name="Mark start at the current position").click()
    page.get_by_label("Go to (mm)").fill("3.5")
    page.get_by_label("Go to (mm)").press("Enter")
    wait_for_shown_position(page, 3500)
    expect(page.locator("#rig-state")).to_have_text("idle")
    page.get_by_role("button", name="Mark end at the current position").click()
    expect(page.locator("#bench-plan")).to_contain_text("frames")
    page.evaluate("window.scrollTo(0, 0)")
    wait_for_image(page, "#lv-img", timeout_ms=10_000)
    viewport = page.viewport_size
    assert viewport is not None
    bar = page.locator("#controls").bounding_box()
    assert bar is not None
    side_bar = bar["width"] < viewport["width"] / 2
    limit_y = viewport["height"] if side_bar else bar["y"]
    limit_x = bar["x"] if side_bar else viewport["width"]
    for part in BENCH_PARTS:
        box = page.locator(part).bounding_box()
        assert box is not None, f"{part} is not shown ({name})"
        if part in ("#stop", "#estop"):
            assert box["y"] + box["height"] <= viewport["height"]
            continue
        assert box["y"] >= 0 and box["y"] + box["height"] <= limit_y + 0.5, f"{part} is off screen ({name}): {box}"
        assert box["x"] + box["width"] <= limit_x + 0.5, f"{part} is under the stop bar ({name}): {box}"
    lv = page.locator("#lv").bounding_box()
    assert lv is not None and lv["height"] >= 200, f"live view too small ({name}): {lv}"
    if name == "desktop":
        assert lv["width"] >= 700, "the desktop live view is large"
    screenshot(page, f"bench-{name}")


def test_bench_targets_are_big_enough_in_landscape_and_on_a_desktop(
    sized: tuple[str, Page], daemon: DaemonProcess
) -> None:
    name, page = sized
    login_by_fragment(page, daemon)
    small = page.evaluate(
        """(min) => [...document.querySelectorAll(
              '#panel-rig button, #panel-rig input, #panel-rig select, #panel-rig .seg label, #controls button')]
          .filter((el) => el.offsetParent !== null && !el.matches('.seg input'))
          .map((el) => {
            const r = el.getBoundingClientRect();
            return {id: el.id || el.textContent, w: r.width, h: r.height};
          })
          .filter((c) => c.w < min || c.h < min)""",
        MIN_TOUCH_PX,
    )
    assert not small, f"touch targets under {MIN_TOUCH_PX} px ({name}): {small}"


def test_first_load_weighs_under_200_kb(page: Page, daemon: DaemonProcess) -> None:
    sizes: dict[str, int] = {}

    def record(response: Response) -> None:
        url = response.url
        if "/api/" in url or url.endswith("/openapi.json") or not url.startswith(daemon.url):
            return
        try:
            sizes[url] = len(response.body())
        except Error:  # a redirect or an aborted request has no body
            sizes.setdefault(url, 0)

    page.on("response", record)
    login_by_fragment(page, daemon)
    page.wait_for_load_state("load")
    total = sum(sizes.values())
    assert any(u.endswith("/js/main.js") for u in sizes), sizes
    assert any(u.endswith("/app.css") for u in sizes), sizes
    assert total <= MAX_FIRST_LOAD_BYTES, f"{total} bytes on first load: {sorted(sizes.items(), key=lambda i: -i[1])}"


def test_no_console_errors_and_no_requests_elsewhere(page: Page, daemon: DaemonProcess) -> None:
    problems: list[str] = []
    foreign: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None)
    page.on("request", lambda r: None if r.url.startswith((daemon.url, "blob:", "data:")) else foreign.append(r.url))
    bench_ready(page, daemon)
    wait_for_image(page, "#lv-img", timeout_ms=10_000)
    for tab in ("Stack", "Stacks", "Bench"):
        page.get_by_role("tab", name=tab, exact=True).click()
        page.wait_for_load_state("networkidle") if tab != "Bench" else None
    page.get_by_role("tab", name="Stack", exact=True).click()
    for details in page.locator("#plan-form details").all():
        if details.is_visible():
            details.locator("summary").click()
    page.get_by_role("tab", name="Bench", exact=True).click()
    page.wait_for_timeout(500)
    assert not foreign, f"requests leaving the Pi: {foreign}"
    assert not problems, f"console errors or warnings: {problems}"
