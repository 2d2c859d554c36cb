"""The settings a simulated camera offers, with the choices a real one would show."""

from __future__ import annotations

from raild.camera.errors import InvalidSetting
from raild.camera.protocol import Setting

APERTURES = ["f/2.8", "f/4", "f/5.6", "f/8", "f/11", "f/16", "f/22"]
SHUTTER_SPEEDS = ["1", "1/2", "1/4", "1/8", "1/15", "1/30", "1/60", "1/125", "1/250"]
ISOS = ["100", "200", "400", "800", "1600", "3200"]
# Simulated JPEG qualities stand in for a camera's JPEG grades.
IMAGE_FORMATS = {"JPEG Fine": 92, "JPEG Normal": 80, "JPEG Basic": 60}
CAPTURE_TARGETS = ["Internal RAM", "Memory card"]


def f_number_label(aperture: float) -> str:
    return f"f/{aperture:g}"


class SimSettings:
    def __init__(self, aperture: float) -> None:
        apertures = list(APERTURES)
        configured = f_number_label(aperture)
        if configured not in apertures:
            apertures.append(configured)
            apertures.sort(key=lambda s: float(s[2:]))
        self._choices: dict[str, list[str]] = {
            "shutterspeed": SHUTTER_SPEEDS,
            "aperture": apertures,
            "iso": ISOS,
            "imageformat": list(IMAGE_FORMATS),
            "capturetarget": CAPTURE_TARGETS,
        }
        self.values: dict[str, str] = {
            "shutterspeed": "1/125",
            "aperture": configured,
            "iso": "100",
            "imageformat": "JPEG Fine",
            "capturetarget": "Internal RAM",
        }

    def all(self) -> dict[str, Setting]:
        return {name: Setting(self.values[name], list(choices)) for name, choices in self._choices.items()}

    def update(self, values: dict[str, str]) -> None:
        """All or nothing: one bad name or value changes no setting."""
        for name, value in values.items():
            if name not in self._choices:
                raise InvalidSetting(name, None, sorted(self._choices))
            if value not in self._choices[name]:
                raise InvalidSetting(name, value, self._choices[name])
        self.values.update(values)

    @property
    def aperture(self) -> float:
        return float(self.values["aperture"][2:])

    @property
    def jpeg_quality(self) -> int:
        return IMAGE_FORMATS[self.values["imageformat"]]
