from __future__ import annotations

from typing import Any

from raild.config import Config


def make_config(**sections: dict[str, Any]) -> Config:
    return Config().with_overrides(**sections)


class MovablePosition:
    """A stand-in carriage for the simulated camera when no rig is needed: a number we set."""

    def __init__(self, position_um: float) -> None:
        self.position_um = position_um
        self.exposures: list[tuple[str, float]] = []

    def __call__(self) -> float:
        return self.position_um

    def record(self, label: str) -> None:
        self.exposures.append((label, self.position_um))
