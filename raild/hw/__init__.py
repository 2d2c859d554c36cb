"""Pin I/O and pigpiod: the connection (`Hardware`), and each fact or routine about them once.

`connect` opens pigpiod, `driver` makes the stepper driver safe, `pigpio_facts` holds
what raild knows of pigpiod, `waves` and `inputs` put waves and pulls on it.
"""

from raild.hw.connection import Hardware
from raild.hw.errors import HardwareUnavailable

__all__ = ["Hardware", "HardwareUnavailable"]
