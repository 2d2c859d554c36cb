"""After a stack: frame strip, frame viewer, download; preview, depth map and coverage
once the daemon offers them; the live sharpness figure."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from .helpers import DaemonProcess, bench_ready, home_rail, login_by_fragment, wait_for_image

pytestmark = pytest.mark.browser


def _finished_stack(page: Page, daemon: DaemonProcess, name: str) -> str:
    login_by_fragment(page, daemon)
    home_rail(page, daemon)
    r = daemon.api(
        "POST", "stacks", json={"start_um": 2000, "end_um": 2200, "step_um": 100, "settle_ms": 20, "name": name}
    )
    assert r.status_code == 201, r.text
    page.get_by_role("tab", name="Stack", exact=True).click()
    expect(page.locator("#run-name")).to_have_text(name)
    expect(page.locator("#run-state")).to_have_text("completed", timeout=30_000)
    return r.json()["id"]


def test_frame_strip_viewer_and_download(page: Page, daemon: DaemonProcess, tmp_path: Path) -> None:
    _finished_stack(page, daemon, "strip")
    strip = page.locator("#run-strip")
    expect(strip.locator("button")).to_have_count(3)
    strip.get_by_role("button", name=re.compile("^View frame 2 ")).click()
    viewer = page.locator("#viewer")
    expect(viewer).to_be_visible()
    expect(page.locator("#viewer-caption")).to_contain_text("Frame 2 of 3")
    wait_for_image(page, "#viewer-img")
    page.get_by_role("button", name="Next frame").click()
    expect(page.locator("#viewer-caption")).to_contain_text("Frame 3 of 3")
    page.keyboard.press("ArrowRight")  # wraps round
    expect(page.locator("#viewer-caption")).to_contain_text("Frame 1 of 3")
    page.get_by_role("button", name="Close the frame viewer").click()
    expect(viewer).to_be_hidden()
    with page.expect_download() as info:
        page.get_by_role("link", name="Download all frames as a zip").click()
    saved = tmp_path / "s.zip"
    info.value.save_as(saved)
    with zipfile.ZipFile(saved) as z:
        assert len([n for n in z.namelist() if n.lower().endswith((".jpg", ".jpeg"))]) == 3


def test_coverage_verdict_after_a_stack(page: Page, daemon: DaemonProcess) -> None:
    stack_id = _finished_stack(page, daemon, "coverage")
    box = page.locator("#run-coverage")
    expect(box).to_be_visible()
    expect(box).to_contain_text("Coverage")
    verdict = daemon.api("GET", f"stacks/{stack_id}/coverage").json()
    if verdict.get("suggest"):
        page.get_by_role("button", name="Put the suggested start, end and step into the plan").click()
        start = page.get_by_label(re.compile(r"^Start \("))
        expect(start).not_to_have_value("")


def test_fused_preview_after_a_stack(page: Page, daemon: DaemonProcess) -> None:
    _finished_stack(page, daemon, "preview")
    expect(page.locator("#run-preview-fig")).to_be_visible()
    wait_for_image(page, "#run-preview")


def test_depth_map_after_a_stack(page: Page, daemon: DaemonProcess) -> None:
    _finished_stack(page, daemon, "depth")
    expect(page.locator("#run-depth-fig")).to_be_visible()
    wait_for_image(page, "#run-depth")


# Keep in step with PATH in raild/web/js/sharpness.js.
def test_live_sharpness_figure(page: Page, daemon: DaemonProcess) -> None:
    bench_ready(page, daemon)
    expect(page.locator("#sharpness")).to_be_visible()
    expect(page.locator("#sharpness")).to_contain_text(re.compile(r"Sharpness \d"))


def test_a_past_stack_opens_from_the_list(page: Page, daemon: DaemonProcess) -> None:
    _finished_stack(page, daemon, "reopened")
    page.get_by_role("button", name="Hide the finished stack").click()
    expect(page.locator("#run-card")).to_be_hidden()
    page.get_by_role("tab", name="Stacks", exact=True).click()
    page.get_by_role("button", name="Open reopened").first.click()
    expect(page.locator("#panel-stack")).to_be_visible()
    expect(page.locator("#run-name")).to_have_text("reopened")
    expect(page.locator("#run-strip button")).to_have_count(3)


def test_focus_scan_sets_start_and_end(page: Page, daemon: DaemonProcess) -> None:
    login_by_fragment(page, daemon)
    home_rail(page, daemon)
    page.get_by_role("tab", name="Stack", exact=True).click()
    page.get_by_label("Start (µm)").fill("1000")
    page.get_by_label("End (µm)").fill("3000")
    page.get_by_role("button", name="Sweep between start and end and find where the subject is sharp").click()
    expect(page.locator("#scan-note")).to_contain_text(re.compile("Subject found|found nothing"), timeout=60_000)


def test_a_cut_end_is_extended_with_one_tap(page: Page, daemon: DaemonProcess) -> None:
    """The simulated subject is 49-51 mm down the rail: a stack inside it is sharpest
    in its last frame, so its far end is cut and one tap shoots beyond it."""
    login_by_fragment(page, daemon)
    home_rail(page, daemon)
    body = {"start_um": 49_600, "end_um": 50_000, "step_um": 100, "settle_ms": 20, "name": "cut"}
    r = daemon.api("POST", "stacks", json=body)
    assert r.status_code == 201, r.text
    parent = r.json()["id"]
    page.get_by_role("tab", name="Stack", exact=True).click()
    expect(page.locator("#run-name")).to_have_text("cut")
    expect(page.locator("#run-state")).to_have_text("completed", timeout=60_000)
    assert daemon.api("GET", f"stacks/{parent}/coverage").json()["far_end"] == "cut"
    far = page.get_by_role("button", name="Extend the stack at its far end")
    expect(far).to_be_visible()
    far.click()
    expect(page.locator("#run-name")).to_have_text(re.compile(r"^cut far \+\d+$"))
    child = daemon.api("GET", "stacks").json()[0]
    assert child["id"] != parent
    assert child["positions_um"][0] == pytest.approx(50_100, abs=1)
    expect(page.locator("#run-state")).to_have_text("completed", timeout=60_000)
    # The list downloads the parent with its extension, numbered as one sequence.
    page.get_by_role("tab", name="Stacks", exact=True).click()
    link = page.get_by_role("link", name="Download cut with its 1 extension as one zip")
    expect(link).to_have_attribute("href", re.compile(rf"/stacks/{parent}/archive\?children=true$"))
