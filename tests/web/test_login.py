"""Login: by the URL fragment, by typing, wrong token, session kept, session lost."""

from __future__ import annotations

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from .helpers import TOKEN, DaemonProcess, login_by_fragment, screenshot

pytestmark = pytest.mark.browser


def test_login_by_fragment_sets_cookie_and_cleans_the_url(
    page: Page, context: BrowserContext, daemon: DaemonProcess
) -> None:
    login_by_fragment(page, daemon)
    # The token must not linger in the address bar or history.
    assert "token" not in page.url
    assert page.url.rstrip("/") == daemon.url
    cookies = {c["name"]: c for c in context.cookies()}
    assert cookies["raild_session"]["httpOnly"] is True
    assert TOKEN not in cookies["raild_session"]["value"]
    expect(page.locator("#stop")).to_be_visible()
    # Kept with the session cookie: a reload goes straight to the rig screen.
    page.reload(wait_until="domcontentloaded")
    expect(page.locator("#app")).to_be_visible()
    expect(page.locator("#login")).to_be_hidden()


def test_wrong_token_shows_a_clear_screen_then_typed_token_works(page: Page, daemon: DaemonProcess) -> None:
    page.goto(f"{daemon.url}/#token=not-the-token", wait_until="domcontentloaded")
    expect(page.locator("#login")).to_be_visible()
    expect(page.locator("#login-error")).to_contain_text("not accepted")
    expect(page.locator("#app")).to_be_hidden()
    expect(page.locator("#stop")).to_be_hidden()
    assert "not-the-token" not in page.url
    screenshot(page, "login")

    page.get_by_label("API token").fill(TOKEN)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#app")).to_be_visible()
    expect(page.locator("#login")).to_be_hidden()


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
