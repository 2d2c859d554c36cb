"""Run the real daemon as users do, and talk to it over loopback.

`Daemon` starts `python -m raild serve` (with `--sim`, or pointed at a separate
`raild sim-rig` process) on a free port with a temporary state dir, a known
`RAILD_API_TOKEN` and a short-settle config. `SimRigProcess` runs the virtual rig
on its own so a test can drop or kill "pigpiod" under a running daemon. Nothing
here fakes a layer: the processes are the ones a user starts.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support import configs
from tests.support.configs import QUICK_SIM, toml_text
from tests.support.daemon import ROOT, DaemonProcess, SimRigProcess
from tests.support.ports import free_port
from tests.support.waiting import wait_for

__all__ = [
    "AUTH",
    "BASE_CONFIG",
    "ROOT",
    "TOKEN",
    "Daemon",
    "SimRigProcess",
    "free_port",
    "merged",
    "running_daemon",
    "toml_text",
    "wait_for",
]

TOKEN = "faults-test-token-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {TOKEN}"}

# A rig that homes in a second or two with short camera times (tests/support/configs.py).
BASE_CONFIG: dict[str, dict[str, Any]] = QUICK_SIM


def merged(*overrides: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return configs.merged(BASE_CONFIG, *overrides)


@dataclass
class Daemon(DaemonProcess):
    """One `raild serve` process with this folder's token; restartable on the same
    state dir and port (tests/support/daemon.py)."""

    token: str = TOKEN


@contextmanager
def running_daemon(workdir: Path, *overrides: dict[str, dict[str, Any]], **kw: Any) -> Iterator[Daemon]:
    daemon = Daemon(workdir, config=merged(*overrides), **kw)
    try:
        daemon.start()
        yield daemon
    finally:
        daemon.stop()
