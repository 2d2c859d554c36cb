"""The rig's physical buttons as the phone shows them: `raild serve` on a separate
`raild sim-rig`, whose inspection channel presses the buttons."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace

import pytest
from playwright.sync_api import Page, expect

from tests.faults.harness import Daemon, SimRigProcess, merged, wait_for

from .helpers import TOKEN, login_by_fragment

pytestmark = pytest.mark.browser
PANEL = {"estop": 17, "stop": 27, "start": 22}


@pytest.fixture(scope="module")
def rig_and_daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SimRigProcess, Daemon]]:
    work = tmp_path_factory.mktemp("controls")
    rig = SimRigProcess(work / "rig", merged({"buttons": PANEL})).start()
    config = merged({"buttons": PANEL, "pigpio": {"port": rig.port}})
    daemon = Daemon(work / "daemon", config, sim=False, env={"RAILD_API_TOKEN": TOKEN})
    try:
        daemon.start(wait_rail=False)
        daemon.api.headers["Authorization"] = f"Bearer {TOKEN}"  # the browser tests' token
        wait_for(daemon.rail_up, 30, "the rail to come up", daemon.proc)
        yield rig, daemon
    finally:
        daemon.stop()
        rig.stop()


def _press(rig: SimRigProcess, name: str) -> None:
    rig.inspect("drive", gpio=PANEL[name], level=0)


def _release(rig: SimRigProcess, name: str) -> None:
    rig.inspect("drive", gpio=PANEL[name], level=None)


def test_button_presses_show_on_the_phone(page: Page, rig_and_daemon: tuple[SimRigProcess, Daemon]) -> None:
    rig, daemon = rig_and_daemon
    login_by_fragment(page, SimpleNamespace(url=daemon.base_url, state_dir=daemon.state_dir))  # type: ignore[arg-type]
    toast = page.locator("#toast")

    # Nothing set up yet: the phone says why nothing started. (The page may still be
    # opening its event stream after login, so a press it missed is pressed again.)
    for _ in range(5):
        _press(rig, "start")
        try:
            expect(toast).to_contain_text("no stack has been set up", timeout=2_000)
            break
        except AssertionError:
            continue
        finally:
            _release(rig, "start")
            page.wait_for_timeout(100)  # open longer than the debounce, or the next press is no edge
    expect(toast).to_contain_text("no stack has been set up")

    _press(rig, "estop")
    expect(toast).to_contain_text("E-stop button")
    expect(page.locator("#rig-state")).to_have_text("estop")
    _release(rig, "estop")
    assert daemon.status()["state"] == "estop"
