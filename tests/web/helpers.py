"""`raild serve --sim` as a real subprocess on a real socket, and browser helpers.

The config keeps a simulated stack short: a small settle time and fast simulated
camera latencies, a carriage that starts near the home switch, and quick homing.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Page, expect

from raild.pairing import PairingCodes
from tests.support import daemon as support
from tests.support.ports import free_port as free_port  # re-exported for the tests here

TOKEN = "web-test-token-7f3a-0123456789"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
READY_TIMEOUT_S = 30.0

CONFIG_TOML = """
# Browser tests: a short, quick simulated rig.
[homing]
seek_speed_um_s = 2500.0
approach_speed_um_s = 800.0
backoff_um = 300.0

[camera]
settle_ms = 20

[sim]
start_position_um = 3000.0
capture_latency_ms = 40
download_ms = 20
preview_ms = 20

[daemon]
mdns = false
"""


def _merge_toml(base: str, extra: str) -> str:
    """Add `extra`'s keys under the same section headers (TOML forbids repeating one)."""
    out = base
    section = ""
    for line in extra.splitlines():
        stripped = line.strip()
        if stripped.startswith("["):
            section = stripped
            if section not in out:
                out += f"\n{section}\n"
        elif stripped:
            out = out.replace(f"{section}\n", f"{section}\n{stripped}\n", 1)
    return out


class DaemonProcess:
    """Start, stop and restart one daemon on a fixed port with a fixed state dir
    (tests/support's `DaemonProcess`, with this folder's config and token)."""

    def __init__(self, tmp_dir: Path, port: int, extra_toml: str = "") -> None:
        self.port = port
        self.daemon = support.DaemonProcess(
            tmp_dir,
            config=_merge_toml(CONFIG_TOML, extra_toml),
            token=TOKEN,
            port=port,
            start_timeout_s=READY_TIMEOUT_S,
        )
        assert self.daemon.state_dir is not None
        self.state_dir = self.daemon.state_dir

    @property
    def url(self) -> str:
        return self.daemon.base_url

    @property
    def proc(self) -> subprocess.Popen[bytes] | None:
        return self.daemon.proc

    def start(self) -> None:
        try:
            self.daemon.start(wait_rail=False)
        except AssertionError as failed:
            self.daemon.stop(timeout_s=10)
            raise RuntimeError(f"raild was not ready: {failed}") from None

    def stop(self) -> None:
        self.daemon.stop(timeout_s=10)

    def kill(self) -> None:
        """SIGKILL, like a power cut: no clean shutdown of the running stack."""
        proc = self.daemon.proc
        if proc is None:
            return
        proc.kill()
        proc.wait(5)
        self.daemon.stop()

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.daemon.log().splitlines()[-lines:]) or "(no log)"

    # The test's own view of the daemon, as a curl user would have it.
    def api(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return httpx.request(
            method, f"{self.url}/api/v1/{path}", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10, **kwargs
        )

    def status(self) -> dict[str, Any]:
        r = self.api("GET", "status")
        r.raise_for_status()
        return r.json()


def pair_code(daemon: DaemonProcess) -> str:
    """A fresh single-use code, written where `raild token` writes it (the daemon's state dir)."""
    return PairingCodes(daemon.state_dir).issue()


def login_by_fragment(page: Page, daemon: DaemonProcess) -> None:
    """Open a login link like the one `raild token` prints and wait for the rig screen."""
    page.goto(f"{daemon.url}/#pair={pair_code(daemon)}", wait_until="domcontentloaded")
    expect(page.locator("#app")).to_be_visible()
    expect(page.locator("#rig-state")).not_to_have_text("connecting")


def screenshot(page: Page, name: str) -> None:
    """Saved for the README; the tests rewrite them on every run."""
    # Let a passing toast ("Stack started") go first so it does not cover the screen.
    expect(page.locator("#toast")).to_be_hidden(timeout=5_000)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def home_rail(page: Page, daemon: DaemonProcess) -> None:
    """Home with the button, as a user would, unless the rail is already homed."""
    status = daemon.status()
    if status["homed"] and status["position_known"]:
        return
    page.get_by_role("tab", name="Bench", exact=True).click()
    page.locator("#btn-home").click()
    expect(page.locator("#homed-badge")).to_have_text("homed", timeout=30_000)
    expect(page.locator("#rig-state")).to_have_text("idle")


def wait_for_js(page: Page, predicate: str, arg: Any = None, *, timeout_ms: float = 15_000) -> None:
    """Until the JavaScript function `predicate(arg)` is true in the page.

    `page.wait_for_function` cannot be used here: it re-evaluates its predicate with
    `eval`, which the app's Content-Security-Policy (`script-src 'self'`, no
    'unsafe-eval') refuses. This sends one function (compiled by the DevTools
    protocol, not by `eval`) that checks every 50 ms and fails
    with the predicate's text when the time is up."""
    poll = (
        "async ([source, arg, timeoutMs]) => {\n"
        f"  const predicate = {predicate};\n"
        "  const until = performance.now() + timeoutMs;\n"
        "  while (!(await predicate(arg))) {\n"
        "    if (performance.now() > until) throw new Error(`timed out after ${timeoutMs} ms: ${source}`);\n"
        "    await new Promise((r) => setTimeout(r, 50));\n"
        "  }\n"
        "}"
    )
    page.evaluate(poll, [predicate, arg, timeout_ms])


def wait_for_image(page: Page, selector: str, *, timeout_ms: float = 15_000) -> None:
    """Until the <img> at `selector` shows a decoded picture."""
    wait_for_js(page, "(sel) => document.querySelector(sel)?.naturalWidth > 0", selector, timeout_ms=timeout_ms)


def shown_position_um(page: Page) -> float:
    return float((page.locator("#pos-um").text_content() or "nan").replace(",", ""))


def wait_for_shown_position(page: Page, target_um: float, tol_um: float = 0.5, timeout_ms: float = 15_000) -> None:
    """Until the page shows `target_um` (the rail rounds to whole microsteps)."""
    wait_for_js(
        page,
        """([t, tol]) => {
            const v = parseFloat(document.getElementById('pos-um').textContent.replace(/,/g, ''));
            return Math.abs(v - t) <= tol;
        }""",
        [target_um, tol_um],
        timeout_ms=timeout_ms,
    )


def bench_ready(page: Page, daemon: DaemonProcess) -> None:
    """Logged in, homed and idle on the bench screen."""
    login_by_fragment(page, daemon)
    home_rail(page, daemon)
    page.get_by_role("tab", name="Bench", exact=True).click()
    expect(page.locator("#rig-state")).to_have_text("idle")
