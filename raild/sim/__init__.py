"""The virtual rig: a pigpiod emulator with a virtual rail on its pins."""

from raild.sim.rig import SimRig

__all__ = ["SimRig"]
