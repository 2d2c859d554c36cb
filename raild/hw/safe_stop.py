"""`raild safe-stop`: halt any wave and disable the driver (systemd ExecStopPost).

pigpiod keeps transmitting a wave after its client has gone, so stopping the
daemon is not enough: this connects on its own, halts, clears the waves, pulls
STEP low and drives EN to its disabled level.
"""

from __future__ import annotations

import contextlib
import io
import sys

import pigpio

from raild.config import Config


def halt_and_disable(pi: pigpio.pi, config: Config) -> None:
    """Halt the wave engine and disable the driver over an open connection."""
    pins = config.pins
    pi.wave_tx_stop()
    pi.wave_clear()
    pi.set_mode(pins.step, pigpio.OUTPUT)
    pi.write(pins.step, 0)
    if pins.enable:
        pi.set_mode(pins.enable, pigpio.OUTPUT)
        pi.write(pins.enable, 1 if pins.enable_active_low else 0)


def safe_stop(config: Config) -> int:
    host, port = config.pigpio.host, config.pigpio.port
    with contextlib.redirect_stdout(io.StringIO()):
        pi = pigpio.pi(host, port)
    if not pi.connected:
        print(f"raild safe-stop: pigpiod at {host}:{port} is not reachable; nothing could be halted", file=sys.stderr)
        return 1
    try:
        halt_and_disable(pi, config)
    except Exception as exc:
        print(f"raild safe-stop: {exc}", file=sys.stderr)
        return 1
    finally:
        pi.stop()
    print("raild safe-stop: waves halted, driver disabled")
    return 0
