"""`raild safe-stop`: halt any wave and disable the driver (systemd ExecStopPost).

pigpiod keeps transmitting a wave after its client has gone, so stopping the
daemon is not enough: this connects on its own and runs the driver's one
disable routine (`raild.hw.driver.disable_driver`).
"""

from __future__ import annotations

import sys

from raild.config import Config
from raild.hw.connect import open_pi, where
from raild.hw.driver import disable_driver
from raild.hw.errors import HardwareUnavailable


def safe_stop(config: Config) -> int:
    host, port = config.pigpio.host, config.pigpio.port
    try:
        pi = open_pi(host, port)
    except HardwareUnavailable:
        print(f"raild safe-stop: {where(host, port)} is not reachable; nothing could be halted", file=sys.stderr)
        return 1
    try:
        disable_driver(pi, config.pins)
    except Exception as exc:
        print(f"raild safe-stop: {exc}", file=sys.stderr)
        return 1
    finally:
        pi.stop()
    print("raild safe-stop: waves halted, driver disabled")
    return 0
