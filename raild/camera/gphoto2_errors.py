"""libgphoto2 result codes → typed camera errors with messages that say what to do.

Plain integers, so this module needs no gphoto2 import and the mapping can be
tested on its own.
"""

from __future__ import annotations

from raild.camera.errors import (
    CameraBusy,
    CameraError,
    CameraUnavailable,
    CaptureFailed,
    Unsupported,
)

GP_ERROR = -1
GP_ERROR_BAD_PARAMETERS = -2
GP_ERROR_NOT_SUPPORTED = -6
GP_ERROR_IO = -7
GP_ERROR_TIMEOUT = -10
GP_ERROR_IO_INIT = -31
GP_ERROR_IO_READ = -34
GP_ERROR_IO_WRITE = -35
GP_ERROR_IO_USB_FIND = -52
GP_ERROR_IO_USB_CLAIM = -53
GP_ERROR_IO_LOCK = -60
GP_ERROR_MODEL_NOT_FOUND = -105
GP_ERROR_FILE_NOT_FOUND = -108
GP_ERROR_CAMERA_BUSY = -110
GP_ERROR_CAMERA_ERROR = -113
GP_ERROR_NO_SPACE = -115

# The handle is useless after these: drop it and connect afresh on the next call.
GONE_CODES = frozenset(
    {GP_ERROR_IO, GP_ERROR_IO_INIT, GP_ERROR_IO_READ, GP_ERROR_IO_WRITE, GP_ERROR_IO_USB_FIND, GP_ERROR_MODEL_NOT_FOUND}
)
BUSY_CODES = frozenset({GP_ERROR_CAMERA_BUSY})

CLAIMED_HINT = (
    "another program has claimed the camera's USB interface, usually the desktop's gvfs "
    "automounter. Release it with `gio mount -s gphoto2`, and stop it coming back with "
    "`systemctl --user mask --now gvfs-gphoto2-volume-monitor` (or uninstall gvfs-backends "
    "on a headless Pi)"
)
GONE_HINT = (
    "the camera is not answering on USB: check that it is switched on, that the cable is "
    "plugged in and that the camera is in PTP/PC mode, not mass storage; raild reconnects "
    "on the next request"
)


def translate(code: int, action: str, detail: str = "") -> CameraError:
    """The typed error for libgphoto2 result `code` while doing `action` (e.g. "capture")."""
    what = f"camera {action} failed ({code}{': ' + detail if detail else ''})"
    if code == GP_ERROR_IO_USB_CLAIM:
        return CameraUnavailable(f"{what}: {CLAIMED_HINT}", gphoto2_code=code)
    if code == GP_ERROR_IO_LOCK:
        return CameraUnavailable(
            f"{what}: another gphoto2 program is using the camera's port; close it (e.g. a "
            "running `gphoto2` command or a tethering app)",
            gphoto2_code=code,
        )
    if code in GONE_CODES:
        return CameraUnavailable(f"{what}: {GONE_HINT}", gphoto2_code=code)
    if code in BUSY_CODES:
        return CameraBusy(
            f"{what}: the camera stayed busy after several retries; it may still be saving the "
            "previous frame, or be in movie or live-view mode on the camera body",
            gphoto2_code=code,
        )
    if code == GP_ERROR_TIMEOUT:
        return CaptureFailed(
            f"{what}: the camera did not answer in time; a long exposure or a slow card may need "
            "a larger camera.capture_timeout_s",
            gphoto2_code=code,
        )
    if code == GP_ERROR_NOT_SUPPORTED:
        return Unsupported(f"{what}: this camera does not support {action} over USB", gphoto2_code=code)
    if code == GP_ERROR_NO_SPACE:
        return CaptureFailed(f"{what}: the camera's card is full", gphoto2_code=code)
    if code == GP_ERROR_CAMERA_ERROR:
        return CaptureFailed(
            f"{what}: the camera refused; autofocus may not have locked (switch the lens to "
            "manual focus) or the card may be missing",
            gphoto2_code=code,
        )
    return CaptureFailed(what, gphoto2_code=code)
