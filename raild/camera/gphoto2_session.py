"""The gphoto2 camera handle and every blocking call on it.

Only the camera worker thread may call into a `Gphoto2Session` (libgphoto2 is
not thread-safe). It connects lazily, retries "busy" with backoff, drops the
handle when the camera is gone so that the next call reconnects, and turns
libgphoto2 result codes into typed errors with actionable messages.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from raild.camera import gphoto2_settings as settings
from raild.camera.brands import (
    EOS_RELEASE_SEQUENCE,
    EOS_RELEASE_WIDGET,
    VIEWFINDER_WIDGET,
    Body,
    CapturePlan,
    choose_plan,
)
from raild.camera.errors import CameraError, CameraUnavailable, Unsupported
from raild.camera.gphoto2_errors import BUSY_CODES, GONE_CODES, GONE_HINT, translate
from raild.camera.protocol import Setting
from raild.config import CameraConfig
from raild.logs import log_event

log = logging.getLogger("raild.camera.gphoto2")
T = TypeVar("T")

BUSY_RETRIES = 5
BUSY_BACKOFF_S = 0.1  # doubles per retry: 0.1 + 0.2 + 0.4 + 0.8 + 1.6 s at most
FILE_EVENT_QUIET_S = 0.3  # after a file arrives, how long to wait for its RAW/JPEG twin


@dataclass(frozen=True)
class CameraFile:
    folder: str
    name: str

    @property
    def path(self) -> str:
        return f"{self.folder.rstrip('/')}/{self.name}"


class Gphoto2Session:
    def __init__(
        self,
        camera_config: CameraConfig,
        gp: Any = None,
        camera_factory: Callable[[], Any] | None = None,
        on_connection: Callable[[bool], None] | None = None,
        busy_retries: int = BUSY_RETRIES,
        busy_backoff_s: float = BUSY_BACKOFF_S,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if gp is None:
            import gphoto2

            gp = gphoto2
        self.gp = gp
        self._config = camera_config
        self._factory = camera_factory if camera_factory is not None else gp.Camera
        self._on_connection = on_connection
        self._busy_retries = busy_retries
        self._busy_backoff_s = busy_backoff_s
        self._sleep = sleep
        self.camera: Any = None
        self.model: str | None = None
        self.port: str | None = None
        self.preview_supported: bool | None = None  # None until the camera tells us
        self.plan: CapturePlan | None = None  # chosen at connect from the body and the config
        self.files_per_shot: int | None = None  # learnt from the first triggered shot
        self._viewfinder_up = False

    @property
    def connected(self) -> bool:
        return self.camera is not None

    # --- connection -------------------------------------------------------------
    def connect(self) -> None:
        if self.camera is not None:
            return
        detected = self.autodetect()
        if not detected:
            raise CameraUnavailable(f"no camera found on USB: {GONE_HINT}")
        model, port = detected[0]
        cam = self._factory()
        try:
            cam.init()
        except self.gp.GPhoto2Error as exc:
            with contextlib.suppress(Exception):
                cam.exit()
            raise translate(exc.code, "connect", str(exc)) from exc
        self.camera, self.model, self.port = cam, model, port
        self.preview_supported = None
        self.files_per_shot = None
        self._viewfinder_up = False
        log_event(log, "camera connected", model=model, port=port)
        self.plan = self._choose_plan()
        self._set_capture_target()
        if self._on_connection is not None:
            self._on_connection(True)

    def autodetect(self) -> list[tuple[str, str]]:
        found = self.gp.Camera.autodetect()
        return [(found.get_name(i), found.get_value(i)) for i in range(found.count())]

    def drop(self) -> None:
        """Forget the handle (camera gone or closing); the next call reconnects."""
        cam, self.camera = self.camera, None
        if cam is None:
            return
        with contextlib.suppress(Exception):
            cam.exit()
        log_event(log, "camera released", model=self.model)
        if self._on_connection is not None:
            self._on_connection(False)

    close = drop

    def call(self, action: str, fn: Callable[[Any], T]) -> T:
        """Run `fn(camera)`, connecting first; busy is retried with backoff, gone drops the handle."""
        self.connect()
        delay_s = self._busy_backoff_s
        for attempt in range(self._busy_retries + 1):
            try:
                return fn(self.camera)
            except self.gp.GPhoto2Error as exc:
                if exc.code in BUSY_CODES and attempt < self._busy_retries:
                    log_event(log, "camera busy, retrying", action=action, delay_s=delay_s)
                    self._sleep(delay_s)
                    delay_s *= 2
                    continue
                if exc.code in GONE_CODES:
                    self.drop()
                raise translate(exc.code, action, str(exc)) from exc
        raise AssertionError("unreachable")

    def _choose_plan(self) -> CapturePlan:
        try:
            tree = settings.flatten(self.gp, self.camera.get_config())
        except self.gp.GPhoto2Error as exc:  # plan from the config alone
            log_event(log, "could not read the camera's settings", logging.WARNING, code=exc.code)
            tree = {}
        plan = choose_plan(self._config, Body(self.model or "", tree))
        log_event(
            log,
            "capture plan",
            mode=plan.mode,
            release=plan.release,
            target=plan.target,
            rules=",".join(name for name, _ in plan.applied) or "none",
        )
        for warning in plan.warnings:
            log_event(log, "camera advice", logging.WARNING, advice=warning)
        return plan

    # --- capture ----------------------------------------------------------------
    def shoot(self, timeout_s: float) -> list[CameraFile]:
        """One frame by the plan's path; returns once the camera has named its file(s)
        ([] when a triggered shot produced no file within the time-out)."""
        self.connect()
        assert self.plan is not None
        if self.plan.mode == "download":
            return [self.capture_image()]
        return self.trigger_and_wait(timeout_s + self.plan.focus_wait_s)

    def capture_image(self) -> CameraFile:
        """Capture and wait until the camera names the file (capture_mode "download")."""
        path = self.call("capture", lambda c: c.capture(self.gp.GP_CAPTURE_IMAGE))
        return CameraFile(path.folder, path.name)

    def trigger(self) -> None:
        if self.plan is not None and self.plan.release == "eosremoterelease":
            self._eos_release()
            return
        self.call("trigger", lambda c: c.trigger_capture())

    def _eos_release(self) -> None:
        """Canon: a full press without autofocus through the remote-release widget."""

        def press(c: Any) -> None:
            for step in EOS_RELEASE_SEQUENCE:
                config = c.get_config()
                config.get_child_by_name(EOS_RELEASE_WIDGET).set_value(step)
                c.set_config(config)

        self.call("remote release", press)

    def drain_events(self) -> None:
        """Discard stale events so the next file-added belongs to the next shot."""

        def drain(c: Any) -> None:
            for _ in range(100):
                kind, _data = c.wait_for_event(1)
                if kind == self.gp.GP_EVENT_TIMEOUT:
                    return

        self.call("event read", drain)

    def wait_for_files(self, timeout_s: float) -> list[CameraFile]:
        """Files the camera reports as added, within `timeout_s`; [] when none came."""
        gp = self.gp

        expected = self.files_per_shot

        def wait(c: Any) -> list[CameraFile]:
            # Done at the camera's capture-complete once a file came, as soon as the number
            # of files a shot makes here (learnt from the first shot) arrived, or after a
            # short quiet spell in which a RAW/JPEG twin would have shown up.
            files: list[CameraFile] = []
            deadline = time.monotonic() + timeout_s
            while True:
                left_s = deadline - time.monotonic()
                if files:
                    if expected is not None and len(files) >= expected:
                        return files
                    left_s = min(left_s, FILE_EVENT_QUIET_S)
                if left_s <= 0:
                    return files
                kind, data = c.wait_for_event(max(1, int(left_s * 1000)))
                if kind == gp.GP_EVENT_FILE_ADDED:
                    files.append(CameraFile(data.folder, data.name))
                elif kind == gp.GP_EVENT_CAPTURE_COMPLETE and files:
                    return files
                elif kind == gp.GP_EVENT_TIMEOUT and files:
                    return files

        files = self.call("capture event", wait)
        if files and expected is None:
            self.files_per_shot = len(files)
        # RAW+JPEG: the JPEG is the frame; the RAW travels beside it.
        return sorted(files, key=lambda f: not f.name.lower().endswith((".jpg", ".jpeg")))

    def trigger_and_wait(self, timeout_s: float) -> list[CameraFile]:
        """capture_mode "trigger": release, then wait for the file-added event."""
        self.drain_events()
        self.trigger()
        return self.wait_for_files(timeout_s)

    def fetch(self, file: CameraFile, delete: bool) -> bytes:
        gp = self.gp

        def get(c: Any) -> bytes:
            data = c.file_get(file.folder, file.name, gp.GP_FILE_TYPE_NORMAL)
            return bytes(data.get_data_and_size())

        data = self.call("download", get)
        if delete:
            try:
                self.call("delete", lambda c: c.file_delete(file.folder, file.name))
            except Exception as exc:  # the frame is safe here; a stale copy on the camera is harmless
                log_event(log, "could not delete on camera", logging.WARNING, file=file.path, error=str(exc))
        return data

    # --- live view and settings --------------------------------------------------
    def preview(self) -> bytes:
        if self.preview_supported is False:
            raise Unsupported(self._no_preview())
        self._raise_viewfinder()
        try:
            data = self.call("live view", lambda c: bytes(c.capture_preview().get_data_and_size()))
        except Unsupported as exc:
            self.preview_supported = False
            raise Unsupported(self._no_preview(), gphoto2_code=exc.gphoto2_code) from exc
        self.preview_supported = True
        return data

    def _raise_viewfinder(self) -> None:
        """viewfinder=1 once per connection, for bodies whose live view answers busy without it."""
        self.connect()
        if self._viewfinder_up or self.plan is None or not self.plan.viewfinder:
            return

        def raise_it(c: Any) -> None:
            config = c.get_config()
            config.get_child_by_name(VIEWFINDER_WIDGET).set_value(1)
            c.set_config(config)

        try:
            self.call("viewfinder", raise_it)
        except CameraError as exc:  # live view may still work; its own error says more
            log_event(log, "could not raise the viewfinder", logging.WARNING, error=exc.message)
        self._viewfinder_up = True

    def _no_preview(self) -> str:
        return (
            f"this camera ({self.model}) cannot send live-view frames over USB; frame the "
            "subject on the camera's own screen"
        )

    def read_settings(self) -> dict[str, Setting]:
        return self.call("settings read", lambda c: settings.read_all(self.gp, c.get_config()))

    def write_settings(self, values: dict[str, str]) -> None:
        def write(c: Any) -> None:
            config = c.get_config()
            settings.apply(self.gp, config, values)
            c.set_config(config)

        self.call("settings write", write)
        self.files_per_shot = None  # an image-format change may add or drop a RAW twin

    def _set_capture_target(self) -> None:
        if self.plan is not None and self.plan.target is not None:
            self.set_capture_target(self.plan.target)

    def set_capture_target(self, wanted: str) -> bool:
        """Point new frames at "ram" or "card"; False when the body could not be told."""
        self.connect()
        try:
            config = self.camera.get_config()
            widget = settings.find_widgets(self.gp, config).get("capturetarget")
            if widget is None:
                return False
            label = settings.pick_capture_target(settings.describe(self.gp, widget).choices, wanted)
            if label is None:
                return False
            if widget.get_value() != label:
                widget.set_value(label)
                self.camera.set_config(config)
            return True
        except self.gp.GPhoto2Error as exc:
            log_event(log, "could not set capture target", logging.WARNING, target=wanted, code=exc.code)
            return False
