"""pigpiod goes away and comes back: the panel is closed with the layers built on
that connection, and rebuilt with them; the e-stop button works again."""

from __future__ import annotations

from pathlib import Path

from raild.daemon import Daemon
from tests.controls.conftest import PANEL, TOKEN, Rig, daemon_config, next_event, until
from tests.faults.harness import SimRigProcess, merged


async def test_controls_come_back_after_pigpiod_restarts(tmp_path: Path) -> None:
    process = SimRigProcess(tmp_path / "rig", merged({"buttons": PANEL})).start()
    rig = Rig(process)
    daemon = Daemon(daemon_config(rig), tmp_path / "state", TOKEN, sim=False)
    await daemon.start()
    try:
        assert daemon.controls is not None
        process.kill()
        await until(lambda: daemon.controls is None, 10, "the panel to be dropped with the connection")
        process.start()  # same ports: pigpiod is back
        await until(lambda: daemon.controls is not None and daemon.rail is not None, 20, "the panel to come back")
        with daemon.events.subscribe() as sub:
            rig.press("estop")
            assert (await next_event(sub, "controls:press")).data == {"button": "estop"}
        await until(lambda: daemon.status()["state"] == "estop", 2, "the e-stop latch")
    finally:
        await daemon.stop()
        process.stop()
