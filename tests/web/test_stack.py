"""Stack setup, a 5-frame stack from the phone, its progress, download and the list."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from .helpers import DaemonProcess, home_rail, login_by_fragment, screenshot, wait_for_image

pytestmark = pytest.mark.browser


def jog(page: Page, step: str, direction: str, times: int = 1) -> None:
    page.get_by_role("radio", name=step, exact=True).check()
    button = page.get_by_role("button", name=re.compile(f"toward the {direction} end"))
    for _ in range(times):
        before = page.locator("#pos-um").text_content()
        button.click()
        expect(page.locator("#pos-um")).not_to_have_text(before or "", timeout=10_000)
        expect(page.locator("#rig-state")).to_have_text("idle")


def set_up_five_frames(page: Page, daemon: DaemonProcess) -> tuple[float, float]:
    """Mark start and end 400 µm apart by jogging, as a user does, and ask for 100 µm steps."""
    home_rail(page, daemon)
    page.get_by_role("tab", name="Bench", exact=True).click()
    jog(page, "1 mm", "far")
    start_um = daemon.status()["position_um"]
    page.get_by_role("tab", name="Stack", exact=True).click()
    page.get_by_role("button", name="Set start to the current position").click()
    expect(page.get_by_label("Start (µm)")).to_have_value(f"{round(start_um, 1):g}")

    page.get_by_role("tab", name="Bench", exact=True).click()
    jog(page, "100 µm", "far", times=4)
    end_um = daemon.status()["position_um"]
    page.get_by_role("tab", name="Stack", exact=True).click()
    page.get_by_role("button", name="Set end to the current position").click()
    expect(page.get_by_label("End (µm)")).to_have_value(f"{round(end_um, 1):g}")
    return start_um, end_um


def test_five_frame_stack_runs_completes_and_downloads(page: Page, daemon: DaemonProcess, tmp_path: Path) -> None:
    login_by_fragment(page, daemon)
    start_um, end_um = set_up_five_frames(page, daemon)
    assert end_um - start_um == pytest.approx(400, abs=0.5)

    summary = page.locator("#plan-summary")
    page.get_by_label("Step (µm)").fill("100")
    expect(summary).to_contain_text("5 frames over 400 µm")
    # The count follows the typing: two shots per position doubles it.
    page.get_by_label("Shots each").fill("2")
    expect(summary).to_contain_text("10 frames at 5 positions")
    page.get_by_label("Shots each").fill("1")
    page.get_by_label("Settle (ms)").fill("20")
    page.get_by_label("Name (optional)").fill("ant head")
    expect(summary).to_contain_text("5 frames")
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "stack-setup")

    page.get_by_role("button", name="Start stack").click()
    card = page.locator("#run-card")
    expect(card).to_be_visible()
    expect(page.locator("#run-name")).to_have_text("ant head")
    expect(page.locator("#run-state")).to_have_text("completed", timeout=60_000)
    expect(page.locator("#run-frame")).to_have_text("5")
    expect(page.locator("#run-frames")).to_have_text("5")
    assert page.locator("#run-progress").evaluate("p => p.value === p.max")
    thumb = page.locator("#run-thumb")
    expect(thumb).to_be_visible()
    wait_for_image(page, "#run-thumb")
    expect(page.get_by_role("button", name="Hide the finished stack")).to_be_visible()

    stacks = daemon.api("GET", "stacks").json()
    stack = stacks[0]
    assert stack["name"] == "ant head" and stack["state"] == "completed" and stack["frames"] == 5
    assert stack["positions_um"][0] == pytest.approx(start_um, abs=0.5)
    assert stack["positions_um"][-1] == pytest.approx(end_um, abs=0.5)

    page.get_by_role("tab", name="Stacks", exact=True).click()
    item = page.locator(f'.stack-item[data-id="{stack["id"]}"]')
    expect(item).to_contain_text("completed")
    expect(item).to_contain_text("5/5 frames")
    # Its thumbnail is the middle frame, as the daemon stored it.
    expect(item.get_by_role("img", name="ant head, middle frame")).to_have_attribute("src", re.compile(r"/frames/3$"))
    wait_for_image(page, f'.stack-item[data-id="{stack["id"]}"] .stack-thumb')
    screenshot(page, "stacks")

    with page.expect_download() as download_info:
        item.get_by_role("link", name=re.compile("^Download")).click()
    saved = tmp_path / "stack.zip"
    download_info.value.save_as(saved)
    with zipfile.ZipFile(saved) as z:
        names = z.namelist()
    assert any(n.endswith("manifest.json") for n in names)
    assert any(n.endswith("positions.csv") for n in names)
    assert len([n for n in names if n.lower().endswith((".jpg", ".jpeg"))]) == 5


def test_running_stack_pause_resume_reload_and_cancel(page: Page, daemon: DaemonProcess) -> None:
    login_by_fragment(page, daemon)
    home_rail(page, daemon)
    page.get_by_role("tab", name="Stack", exact=True).click()
    # Typed, not marked: the rail goes to the start by itself.
    page.get_by_label("Start (µm)").fill("1000")
    page.get_by_label("End (µm)").fill("4000")
    page.get_by_label("Step (µm)").fill("100")
    page.get_by_label("Settle (ms)").fill("250")  # slow enough to watch
    page.get_by_label("Name (optional)").fill("slow one")
    expect(page.locator("#plan-summary")).to_contain_text("31 frames")
    page.get_by_role("button", name="Start stack").click()

    state = page.locator("#run-state")
    expect(state).to_have_text("running")
    # One stack at a time: the form says so instead of offering a start that would fail.
    expect(page.locator("#plan-submit")).to_be_disabled()
    expect(page.locator("#plan-submit")).to_have_text("A stack is running")
    expect(page.locator("#run-frame")).to_have_text(re.compile(r"^([3-9]|\d\d)$"), timeout=20_000)
    expect(page.locator("#run-eta")).to_have_text(re.compile(r"\d+ (s|min)"))
    expect(page.locator("#job-mini")).to_contain_text("/31")
    wait_for_image(page, "#run-thumb")
    screenshot(page, "stack-running")

    page.get_by_role("button", name="Pause the stack").click()
    expect(state).to_have_text("paused", timeout=10_000)
    # A reload (or a phone that lost the page) shows the same stack from the daemon.
    page.reload(wait_until="domcontentloaded")
    expect(page.locator("#panel-stack")).to_be_visible()
    expect(state).to_have_text("paused")
    expect(page.locator("#run-name")).to_have_text("slow one")
    frame_paused = int(page.locator("#run-frame").text_content() or "0")
    assert frame_paused >= 3

    # Resume from the list, which then shows the stack running.
    page.get_by_role("tab", name="Stacks", exact=True).click()
    item = page.locator(".stack-item", has_text="slow one")
    expect(item).to_contain_text("paused")
    item.get_by_role("button", name="Resume slow one").click()
    expect(page.locator("#panel-stack")).to_be_visible()
    expect(state).to_have_text("running")
    expect(page.locator("#run-frame")).not_to_have_text(str(frame_paused), timeout=10_000)
    # And pause/resume from the card.
    page.get_by_role("button", name="Pause the stack").click()
    expect(state).to_have_text("paused", timeout=10_000)
    page.get_by_role("button", name="Resume the stack").click()
    expect(state).to_have_text("running")
    page.get_by_role("button", name="Cancel the stack").click()
    expect(state).to_have_text("cancelled", timeout=10_000)
    assert daemon.api("GET", "stacks").json()[0]["state"] == "cancelled"


def test_api_validation_is_shown_next_to_the_field(page: Page, daemon: DaemonProcess) -> None:
    created_before = len(daemon.api("GET", "stacks").json())
    login_by_fragment(page, daemon)
    home_rail(page, daemon)
    page.get_by_role("tab", name="Stack", exact=True).click()
    page.get_by_label("Start (µm)").fill("1000")
    page.get_by_label("End (µm)").fill("250000")  # beyond the 100 mm travel
    page.get_by_label("Step (µm)").fill("100")
    page.get_by_role("button", name="Start stack").click()
    end_error = page.locator('[data-error-for="end_um"]')
    expect(end_error).to_be_visible()
    expect(end_error).to_contain_text("soft limits")
    expect(page.get_by_label("End (µm)")).to_have_attribute("aria-invalid", "true")
    expect(page.locator('[data-error-for="start_um"]')).to_be_hidden()

    page.get_by_label("End (µm)").fill("2000")
    page.get_by_label("Step (µm)").fill("-5")
    expect(page.locator("#plan-summary")).to_contain_text("the step must be more than 0")
    page.get_by_role("button", name="Start stack").click()
    step_error = page.locator('[data-error-for="step_um"]')
    expect(step_error).to_be_visible()
    expect(end_error).to_be_hidden()
    # Nothing typed was lost.
    expect(page.get_by_label("Start (µm)")).to_have_value("1000")
    expect(page.get_by_label("Step (µm)")).to_have_value("-5")
    assert len(daemon.api("GET", "stacks").json()) == created_before, "a refused plan started a stack"


def test_optics_helper_fills_the_step(page: Page, daemon: DaemonProcess) -> None:
    login_by_fragment(page, daemon)
    page.get_by_role("tab", name="Stack", exact=True).click()
    page.get_by_text("Step from optics").click()
    page.get_by_label("Magnification ×").fill("2")
    page.get_by_label("Aperture f/").fill("8")
    page.get_by_role("button", name="Compute the step from magnification and aperture").click()
    expected = daemon.api("GET", "optics/step", params={"magnification": 2, "aperture": 8}).json()
    expect(page.get_by_label("Step (µm)")).to_have_value(f"{round(expected['step_um'], 1):g}")
    expect(page.locator("#optics-result")).to_contain_text("Depth of field")


def test_typed_plan_survives_a_reload(page: Page, daemon: DaemonProcess) -> None:
    login_by_fragment(page, daemon)
    page.get_by_role("tab", name="Stack", exact=True).click()
    page.get_by_label("Start (µm)").fill("1234.5")
    page.get_by_label("End (µm)").fill("2234.5")
    page.get_by_label("Step (µm)").fill("50")
    page.reload(wait_until="domcontentloaded")
    expect(page.get_by_label("Start (µm)")).to_have_value("1234.5")
    expect(page.locator("#plan-summary")).to_contain_text("21 frames over 1.00 mm")


def test_delete_needs_a_second_tap(page: Page, daemon: DaemonProcess) -> None:
    stacks = daemon.api("GET", "stacks").json()
    if not stacks:
        pytest.skip("needs a finished stack from the tests above")
    victim = stacks[-1]
    login_by_fragment(page, daemon)
    page.get_by_role("tab", name="Stacks", exact=True).click()
    item = page.locator(f'.stack-item[data-id="{victim["id"]}"]')
    delete = item.get_by_role("button", name=re.compile("^Delete"))
    delete.click()
    expect(item.get_by_role("button", name=re.compile("^Confirm deleting"))).to_be_visible()
    assert daemon.api("GET", f"stacks/{victim['id']}").status_code == 200
    item.get_by_role("button", name=re.compile("^Confirm deleting")).click()
    expect(item).to_have_count(0)
    assert daemon.api("GET", f"stacks/{victim['id']}").status_code == 404
