"""libgphoto2 result codes map to typed errors with the right status and a way out."""

from __future__ import annotations

import pytest

from raild.camera.errors import CameraBusy, CameraUnavailable, CaptureFailed, Unsupported
from raild.camera.gphoto2_errors import translate


@pytest.mark.parametrize(
    ("code", "kind", "status", "hint"),
    [
        (-53, CameraUnavailable, 503, "gio mount -s gphoto2"),
        (-60, CameraUnavailable, 503, "another gphoto2 program"),
        (-52, CameraUnavailable, 503, "switched on"),
        (-7, CameraUnavailable, 503, "reconnects"),
        (-105, CameraUnavailable, 503, "PTP"),
        (-110, CameraBusy, 409, "busy"),
        (-10, CaptureFailed, 503, "capture_timeout_s"),
        (-6, Unsupported, 503, "does not support"),
        (-115, CaptureFailed, 503, "full"),
        (-113, CaptureFailed, 503, "manual focus"),
        (-1, CaptureFailed, 503, "capture failed (-1"),
    ],
)
def test_translate(code: int, kind: type, status: int, hint: str) -> None:
    err = translate(code, "capture")
    assert type(err) is kind
    assert err.status == status and err.gphoto2_code == code
    assert hint in err.message
