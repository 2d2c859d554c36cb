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


class RigWithPins:
    """The virtual rig (pigpiod emulator) and a real gpiozero `PiGPIOFactory` talking to it."""

    def __init__(self, config: Config) -> None:
        from raild.sim.rig import SimRig

        self.rig = SimRig(config)

    def __enter__(self) -> RigWithPins:
        from gpiozero.pins.pigpio import PiGPIOFactory

        self.rig.start_blocking("127.0.0.1", 0)
        self.factory = PiGPIOFactory(host="127.0.0.1", port=self.rig.port)
        return self

    def __exit__(self, *exc: object) -> None:
        self.factory.close()
        self.rig.stop_blocking()

    def edges(self) -> list[Any]:
        return [t for t in self.rig.rail.triggers if t.kind in ("shutter", "focus")]
