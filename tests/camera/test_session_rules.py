"""The session applies the brand rules and ends each triggered shot at the camera's own
signal, checked on a FAKE body (tests/camera/fake_body.py) built from the hand-written
Canon and Sony widget trees: the calls are what gphoto2 documents, the body is not real."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from raild.camera.gphoto2_session import Gphoto2Session
from raild.config import Config

from .fake_body import GP, FakeBody, autodetect_for
from .test_brands import body

FILE, DONE = GP.GP_EVENT_FILE_ADDED, GP.GP_EVENT_CAPTURE_COMPLETE


def session_for(fixture: str, events: list[tuple[int, str | None]], **camera: Any) -> tuple[Gphoto2Session, FakeBody]:
    b = body(fixture)
    fake = FakeBody(dict(b.widgets), events)
    gp = SimpleNamespace(**vars(GP), Camera=SimpleNamespace(autodetect=autodetect_for(b.model).__func__))
    cfg = Config().with_overrides(camera={"backend": "gphoto2", **camera}).camera
    return Gphoto2Session(cfg, gp=gp, camera_factory=lambda: fake), fake


def test_canon_fires_by_remote_release_and_raises_the_viewfinder_once() -> None:
    session, fake = session_for("canon_eos_handwritten", [(DONE, None), (FILE, "IMG")], capture_mode="auto")
    files = session.shoot(timeout_s=5)
    assert [f.name for f in files] == ["IMG_1"]
    sets = [entry for entry in fake.log if entry[0] in ("set", "trigger_capture")]
    assert sets == [("set", ("eosremoterelease", "Immediate")), ("set", ("eosremoterelease", "Release Full"))]
    session.preview()
    session.preview()
    assert [e for e in fake.log if e == ("set", ("viewfinder", 1))] == [("set", ("viewfinder", 1))]
    assert fake.log[-1] == ("preview", None)


def test_canon_rule_off_uses_trigger_capture() -> None:
    session, fake = session_for(
        "canon_eos_handwritten", [(FILE, "IMG"), (DONE, None)], capture_mode="trigger", remote_release="off"
    )
    session.shoot(timeout_s=5)
    assert ("trigger_capture", None) in fake.log
    assert not any(e[0] == "set" and e[1][0] == "eosremoterelease" for e in fake.log)


def test_a_shot_ends_at_capture_complete_after_its_file() -> None:
    session, fake = session_for("canon_eos_handwritten", [(FILE, "IMG"), (DONE, None)], capture_mode="trigger")
    for _ in range(3):
        session.shoot(timeout_s=5)
    assert fake.waits_after_file == 3  # only the pre-trigger drains; no quiet wait after a file


def test_without_capture_complete_the_file_count_is_learnt_from_the_first_shot() -> None:
    # RAW+JPEG, and no capture-complete after the files (as reported for some bodies).
    session, fake = session_for(
        "sony_alpha_handwritten", [(FILE, "DSC.ARW"), (FILE, "DSC.JPG")], capture_mode="trigger"
    )
    first = session.shoot(timeout_s=5)
    assert [f.name for f in first] == ["DSC_1.JPG", "DSC_1.ARW"]  # the JPEG is the frame
    waits_first = fake.waits_after_file
    session.shoot(timeout_s=5)
    # The first shot waited a quiet spell for a twin (one timed-out wait, plus the drain);
    # the second ended as soon as its two files came (only the drain).
    assert waits_first == 2 and fake.waits_after_file - waits_first == 1
    assert session.files_per_shot == 2
    # A new image format may add or drop the twin: the count is learnt again.
    session.write_settings({"imageformat": "Extra Fine"})
    assert session.files_per_shot is None


def test_sony_plan_allows_the_focus_wait() -> None:
    session, _ = session_for("sony_alpha_handwritten", [(FILE, "DSC.JPG")], capture_mode="auto")
    session.connect()
    assert session.plan is not None
    assert session.plan.mode == "trigger" and session.plan.focus_wait_s > 1.0
    assert session.plan.reconnect_after_timeout


async def test_sony_reconnects_after_a_shot_that_never_came(tmp_path: Path) -> None:
    from raild.camera.errors import CaptureFailed
    from raild.camera.gphoto2_camera import Gphoto2Camera

    session, fake = session_for("sony_alpha_handwritten", [], capture_mode="auto", capture_timeout_s=0.05)
    cfg = Config().with_overrides(camera={"backend": "gphoto2", "capture_mode": "auto", "capture_timeout_s": 0.05})
    cam = Gphoto2Camera(cfg, session=session)
    await cam.open()
    with pytest.raises(CaptureFailed) as err:
        await cam.capture(tmp_path / "x.jpg")
    assert "no picture within 1.55 s" in err.value.message
    assert cam.status()["connected"] is False and fake.log[-1] == ("exit", None)  # dropped: the next call reconnects
    await cam.close()
