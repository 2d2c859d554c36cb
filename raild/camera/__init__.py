"""Camera layer: one `Camera` protocol, backends for gphoto2 (USB), a wired shutter
(on GPIO or a grbl board's coolant pin) and a simulated optical camera;
`create_camera` picks one from the config."""

from raild.camera.errors import (
    CameraBusy,
    CameraError,
    CameraUnavailable,
    CaptureFailed,
    InvalidSetting,
    Unsupported,
)
from raild.camera.factory import create_camera
from raild.camera.protocol import Camera, Capabilities, Capture, Setting

__all__ = [
    "Camera",
    "CameraBusy",
    "CameraError",
    "CameraUnavailable",
    "Capabilities",
    "Capture",
    "CaptureFailed",
    "InvalidSetting",
    "Setting",
    "Unsupported",
    "create_camera",
]
