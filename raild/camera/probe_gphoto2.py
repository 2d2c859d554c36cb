"""`raild camera probe`, the gphoto2 part: connect, read the body, time each capture
path, try live view, and leave the body as it was found.

Runs in the CLI's own thread (no daemon, no worker): one `Gphoto2Session`, so only
one thread ever talks to the camera. Test frames are deleted from the camera after
their path is timed, also on the paths that time "keep".
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any

from raild.camera import gphoto2_settings as settings
from raild.camera.brands import VIEWFINDER_WIDGET, Body
from raild.camera.errors import CameraError, CameraUnavailable
from raild.camera.gphoto2_session import CameraFile, Gphoto2Session
from raild.camera.probe import LiveViewResult, PathResult, PathSpec, ProbeReport, ShotTiming, paths_for
from raild.config import CameraConfig
from raild.logs import log_event

log = logging.getLogger("raild.camera.probe")
NO_CAMERA = (
    "no camera found on USB: switch it on, plug in the cable, and set its USB mode to PTP/PC "
    "(not mass storage); `gphoto2 --auto-detect` should list it"
)


def run_probe(
    camera_config: CameraConfig,
    shots: int,
    session: Gphoto2Session | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> ProbeReport:
    """Raises `CameraUnavailable` when there is no camera or another program holds it.
    A path that fails later (even by losing the camera) is recorded and the next is tried."""
    if session is None:
        session = Gphoto2Session(camera_config)
    if not session.autodetect():
        raise CameraUnavailable(NO_CAMERA)
    session.connect()
    try:
        assert session.plan is not None
        tree = session.call("settings read", lambda c: settings.flatten(session.gp, c.get_config()))
        body = Body(session.model or "", tree)
        report = ProbeReport(session.model or "", session.port or "", body, session.plan, shots)
        original_target = tree.get("capturetarget")
        for spec in paths_for(body):
            report.paths.append(_time_path(session, spec, shots, camera_config.capture_timeout_s, clock))
        report.liveview = _try_liveview(session, clock)
        if original_target is not None:
            _restore_target(session, original_target.value, report)
        return report
    finally:
        session.close()


def _time_path(
    session: Gphoto2Session, spec: PathSpec, shots: int, timeout_s: float, clock: Callable[[], float]
) -> PathResult:
    result = PathResult(spec)
    left_on_camera: list[CameraFile] = []
    try:
        if spec.target is not None and not session.set_capture_target(spec.target):
            result.error = f"the camera did not accept capture target {spec.target!r}"
            return result
        session.files_per_shot = None
        for _ in range(shots):
            t0 = clock()
            if spec.mode == "download":
                files = [session.capture_image()]
            else:
                session.drain_events()
                t0 = clock()  # stale events are not the camera's answer time
                session.trigger()
                assert session.plan is not None
                files = session.wait_for_files(timeout_s + session.plan.focus_wait_s)
                if not files:
                    result.error = f"no file event within {timeout_s:g} s of the trigger"
                    return result
            t1 = clock()
            size = sum(len(session.fetch(f, delete=False)) for f in files)
            t2 = clock()
            if spec.delete:
                for f in files:
                    _delete(session, f)
            else:
                left_on_camera += files
            t3 = clock()
            result.shots.append(ShotTiming(t1 - t0, t2 - t1, t3 - t2, len(files), size))
    except CameraError as exc:  # this path failed; the session reconnects for the next one
        result.error = exc.message
    finally:
        for f in left_on_camera:  # test frames do not stay on the card
            with contextlib.suppress(CameraError):
                _delete(session, f)
    return result


def _delete(session: Gphoto2Session, f: CameraFile) -> None:
    session.call("delete", lambda c: c.file_delete(f.folder, f.name))


def _try_liveview(session: Gphoto2Session, clock: Callable[[], float]) -> LiveViewResult:
    assert session.plan is not None
    raised = session.plan.viewfinder
    try:
        session.preview()  # the first frame wakes live view; time the second
        t0 = clock()
        session.preview()
        result = LiveViewResult(True, clock() - t0, viewfinder_raised=raised)
    except CameraError as exc:
        result = LiveViewResult(False, error=exc.message, viewfinder_raised=raised)
    if raised:
        with contextlib.suppress(CameraError):
            session.call("viewfinder", lambda c: _set_widget(c, VIEWFINDER_WIDGET, 0))
    return result


def _set_widget(camera: Any, name: str, value: Any) -> None:
    config = camera.get_config()
    config.get_child_by_name(name).set_value(value)
    camera.set_config(config)


def _restore_target(session: Gphoto2Session, label: str, report: ProbeReport) -> None:
    try:
        session.call("capture target", lambda c: _set_widget(c, "capturetarget", label))
    except CameraError as exc:
        log_event(log, "could not restore the capture target", logging.WARNING, error=exc.message)
        report.notes.append(f"the capture target could not be set back to {label!r}")
