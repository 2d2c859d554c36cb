"""The daemon restarts under the phone: banner, backoff, and back without a new login."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from .helpers import DaemonProcess, free_port, home_rail, login_by_fragment, pair_code

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def _daemon_for_restarts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaemonProcess]:
    proc = DaemonProcess(tmp_path_factory.mktemp("restarts"), free_port())
    yield proc
    proc.stop()


@pytest.fixture
def restartable(_daemon_for_restarts: DaemonProcess) -> DaemonProcess:
    """A daemon these tests may stop and start; running when each test begins."""
    if _daemon_for_restarts.proc is None:
        _daemon_for_restarts.start()
    return _daemon_for_restarts


def test_reconnects_after_the_daemon_restarts(page: Page, restartable: DaemonProcess) -> None:
    login_by_fragment(page, restartable)
    page.get_by_role("tab", name="Stack", exact=True).click()
    banner = page.locator("#banner")
    expect(banner).to_be_hidden()

    restartable.stop()
    expect(banner).to_be_visible()
    expect(page.locator("#banner-text")).to_contain_text("Daemon unreachable")
    expect(page.locator("#rig-state")).to_have_text("offline")
    # The screen the user was on, and the stop button, stay put while it is down.
    expect(page.locator("#panel-stack")).to_be_visible()
    expect(page.locator("#stop")).to_be_visible()

    restartable.start()
    # Backoff is capped, so it comes back on its own well within the timeout.
    expect(banner).to_be_hidden(timeout=25_000)
    expect(page.locator("#rig-state")).not_to_have_text("offline")
    expect(page.locator("#app")).to_be_visible()
    expect(page.locator("#login")).to_be_hidden()
    # The event stream is live again: a state change made elsewhere reaches the page.
    before = page.locator("#btn-motor").text_content()
    restartable.api("POST", "motion/motor", json={"enabled": before != "Motor on"})
    expect(page.locator("#btn-motor")).not_to_have_text(before or "", timeout=10_000)


def test_unreachable_at_first_load_then_logs_in(page: Page, restartable: DaemonProcess) -> None:
    # The page loads, but the login request finds no daemon (refused, as by a
    # restarting daemon): the banner says so and the page keeps retrying.
    page.route("**/api/v1/session", lambda route: route.abort("connectionrefused"))
    page.goto(f"{restartable.url}/#pair=anything", wait_until="domcontentloaded")
    expect(page.locator("#banner")).to_be_visible()
    expect(page.locator("#banner-text")).to_contain_text("reconnecting")
    expect(page.locator("#login")).to_be_hidden()
    page.unroute("**/api/v1/session")
    # A fresh login link opened in the same tab wins over the pending retries.
    page.goto(f"{restartable.url}/#pair={pair_code(restartable)}", wait_until="domcontentloaded")
    expect(page.locator("#app")).to_be_visible()
    expect(page.locator("#banner")).to_be_hidden()
    page.wait_for_timeout(1500)  # a stale retry with the wrong code must not log us out
    expect(page.locator("#app")).to_be_visible()


def test_wifi_coming_back_reconnects_at_once(page: Page, restartable: DaemonProcess) -> None:
    """A phone that drops off the Wi-Fi (or wakes from a lock without it) cannot trust
    its old stream; when the network is back it opens a fresh one within a second."""
    login_by_fragment(page, restartable)
    expect(page.locator("#banner")).to_be_hidden()
    page.context.set_offline(True)
    expect(page.locator("#banner")).to_be_visible()
    with page.expect_request(lambda req: req.url.endswith("/api/v1/events"), timeout=1_500):
        page.context.set_offline(False)
    expect(page.locator("#banner")).to_be_hidden()
    expect(page.locator("#rig-state")).not_to_have_text(re.compile("offline|connecting"))
    expect(page.locator("#toast")).to_contain_text("Reconnected")


def test_back_within_two_seconds_of_the_daemon(page: Page, restartable: DaemonProcess) -> None:
    """Retries are capped near a second: once the daemon answers again the page is live
    within 2 s, and says it reconnected."""
    login_by_fragment(page, restartable)
    restartable.stop()
    expect(page.locator("#banner")).to_be_visible()
    page.wait_for_timeout(3_000)  # long enough for an uncapped backoff to have grown
    restartable.start()  # returns once /health answers
    t0 = time.monotonic()
    expect(page.locator("#banner")).to_be_hidden(timeout=2_000)
    expect(page.locator("#rig-state")).not_to_have_text(re.compile("offline|connecting"), timeout=2_000)
    assert time.monotonic() - t0 <= 2.5
    expect(page.locator("#toast")).to_contain_text("Reconnected")


def test_a_stack_cut_off_by_a_crash_is_resumed_from_the_list(page: Page, restartable: DaemonProcess) -> None:
    login_by_fragment(page, restartable)
    home_rail(page, restartable)
    r = restartable.api(
        "POST", "stacks", json={"start_um": 1000, "end_um": 5000, "step_um": 100, "settle_ms": 200, "name": "cut off"}
    )
    assert r.status_code == 201, r.text
    stack_id = r.json()["id"]
    page.get_by_role("tab", name="Stack", exact=True).click()
    expect(page.locator("#run-state")).to_have_text("running")
    expect(page.locator("#run-frame")).to_have_text(re.compile(r"^([2-9]|\d\d)$"), timeout=20_000)

    restartable.kill()
    expect(page.locator("#banner")).to_be_visible()
    restartable.start()
    expect(page.locator("#banner")).to_be_hidden(timeout=25_000)

    page.get_by_role("tab", name="Stacks", exact=True).click()
    item = page.locator(f'.stack-item[data-id="{stack_id}"]')
    expect(item).to_contain_text("interrupted")
    # After a restart the rail is unhomed; the daemon says why resuming must wait.
    item.get_by_role("button", name="Resume cut off").click()
    # The refusal is a sentence beside the button, not a passing toast.
    expect(item.locator(".refusal")).to_contain_text("home")
    home_rail(page, restartable)
    page.get_by_role("tab", name="Stacks", exact=True).click()
    item.get_by_role("button", name="Resume cut off").click()
    expect(page.locator("#panel-stack")).to_be_visible()
    expect(page.locator("#run-state")).to_have_text("running")
    page.get_by_role("button", name="Stop all motion and the stack").click()
    expect(page.locator("#run-state")).not_to_have_text("running", timeout=10_000)
    assert restartable.api("GET", f"stacks/{stack_id}").json()["state"] != "running"
