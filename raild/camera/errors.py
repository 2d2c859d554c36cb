"""Typed camera errors that the API maps to HTTP status codes.

Each error carries `.status` (the HTTP status the API answers with), a stable
`.code` for problem+json `type`s and logs, and a message that tells the user
what to do, not only what went wrong.
"""

from __future__ import annotations


class CameraError(Exception):
    """Base of every camera failure. `status` is the HTTP status for the API."""

    status: int = 503
    code: str = "camera_error"

    def __init__(self, message: str, *, gphoto2_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        # The libgphoto2 result code behind this error, when there is one.
        self.gphoto2_code = gphoto2_code


class CameraUnavailable(CameraError):
    """No camera, camera gone, or another process holds it (503)."""

    status = 503
    code = "camera_unavailable"


class CameraBusy(CameraError):
    """The camera refused because it is still busy with something else (409)."""

    status = 409
    code = "camera_busy"


class InvalidSetting(CameraError):
    """A setting name or value the camera does not offer (422); `.choices` lists what it does."""

    status = 422
    code = "invalid_setting"

    def __init__(self, name: str, value: str | None, choices: list[str], message: str | None = None) -> None:
        if message is None:
            if value is None:
                message = f"the camera has no setting {name!r}; it offers: {', '.join(choices) or 'none'}"
            else:
                message = f"{value!r} is not a valid {name}; choose one of: {', '.join(choices) or 'none'}"
        super().__init__(message)
        self.name = name
        self.value = value
        self.choices = choices


class Unsupported(CameraError):
    """The backend or camera cannot do this at all (e.g. live view on a wired shutter)."""

    status = 503
    code = "camera_unsupported"


class CaptureFailed(CameraError):
    """A capture was attempted and did not produce a frame (time-out, camera error)."""

    status = 503
    code = "capture_failed"
