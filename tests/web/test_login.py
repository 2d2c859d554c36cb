"""Login: by a pairing link, by typing, wrong code or token, old token links, session kept and lost."""

from __future__ import annotations

import pytest
from playwright.sync_api import BrowserContext, ConsoleMessage, Page, Request, expect

from .helpers import TOKEN, DaemonProcess, login_by_fragment, pair_code, screenshot

pytestmark = pytest.mark.browser


def test_pairing_link_sets_cookie_cleans_the_url_and_works_once(
    page: Page, context: BrowserContext, daemon: DaemonProcess
) -> None:
    csp_errors: list[str] = []
    page.on("console", lambda m: csp_errors.append(m.text) if "Content Security Policy" in m.text else None)
    code = pair_code(daemon)
    page.goto(f"{daemon.url}/#pair={code}", wait_until="domcontentloaded")
    # Gone from the address bar and from the history entry before anything else ran.
    assert code not in page.evaluate("location.href")
    assert page.url.rstrip("/") == daemon.url
    expect(page.locator("#app")).to_be_visible()
    cookies = {c["name"]: c for c in context.cookies()}
    assert cookies["raild_session"]["httpOnly"] is True
    assert TOKEN not in cookies["raild_session"]["value"]
    expect(page.locator("#stop")).to_be_visible()
    # Kept with the session cookie: a reload goes straight to the rig screen.
    page.reload(wait_until="domcontentloaded")
    expect(page.locator("#app")).to_be_visible()
    expect(page.locator("#login")).to_be_hidden()
    assert csp_errors == [], "the page must run under its own Content-Security-Policy"

    # The same link in another browser: used up.
    other = context.browser.new_context() if context.browser else None
    assert other is not None
    try:
        second = other.new_page()
        second.goto(f"{daemon.url}/#pair={code}", wait_until="domcontentloaded")
        expect(second.locator("#login-error")).to_contain_text("already used or has expired")
        expect(second.locator("#app")).to_be_hidden()
    finally:
        other.close()


def test_wrong_code_shows_a_clear_screen_then_typed_token_works(page: Page, daemon: DaemonProcess) -> None:
    page.goto(f"{daemon.url}/#pair=not-a-code", wait_until="domcontentloaded")
    expect(page.locator("#login")).to_be_visible()
    expect(page.locator("#login-error")).to_contain_text("already used or has expired")
    expect(page.locator("#app")).to_be_hidden()
    expect(page.locator("#stop")).to_be_hidden()
    assert "not-a-code" not in page.url
    screenshot(page, "login")

    page.get_by_label("API token").fill(TOKEN)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#app")).to_be_visible()
    expect(page.locator("#login")).to_be_hidden()


def test_an_old_token_link_is_refused_unused_with_a_note(page: Page, daemon: DaemonProcess) -> None:
    sent: list[str] = []

    def record(request: Request) -> None:
        if request.url.endswith("/api/v1/session") and request.method == "POST":
            sent.append(request.post_data or "")

    page.on("request", record)
    page.goto(f"{daemon.url}/#token={TOKEN}", wait_until="domcontentloaded")
    expect(page.locator("#login")).to_be_visible()
    expect(page.locator("#login-error")).to_contain_text("no longer accepted")
    assert TOKEN not in page.evaluate("location.href")
    assert sent == [], "the token from a URL must not be used"


def test_the_page_runs_with_strict_security_headers(page: Page, daemon: DaemonProcess) -> None:
    messages: list[ConsoleMessage] = []
    page.on("console", lambda m: messages.append(m))
    response = page.goto(daemon.url, wait_until="domcontentloaded")
    assert response is not None
    csp = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    expect(page.locator("#login")).to_be_visible()
    assert not [m.text for m in messages if "Content Security Policy" in m.text]


def test_no_session_shows_login_without_an_error(page: Page, daemon: DaemonProcess) -> None:
    page.goto(daemon.url, wait_until="domcontentloaded")
    expect(page.locator("#login")).to_be_visible()
    expect(page.locator("#login-error")).to_be_hidden()


def test_a_401_later_returns_to_login(page: Page, context: BrowserContext, daemon: DaemonProcess) -> None:
    login_by_fragment(page, daemon)
    page.get_by_role("tab", name="Stacks", exact=True).click()  # no live view stream here
    context.clear_cookies()
    page.get_by_role("button", name="Refresh the list of stacks").click()  # now answered with 401
    expect(page.locator("#login")).to_be_visible()
    expect(page.locator("#login-error")).to_contain_text("session has ended")
    expect(page.locator("#stop")).to_be_hidden()


def test_logout_ends_the_session(page: Page, context: BrowserContext, daemon: DaemonProcess) -> None:
    login_by_fragment(page, daemon)
    page.get_by_role("tab", name="Stacks", exact=True).click()
    page.get_by_role("button", name="Log out of this phone").click()
    expect(page.locator("#login")).to_be_visible()
    page.reload(wait_until="domcontentloaded")
    expect(page.locator("#login")).to_be_visible()
