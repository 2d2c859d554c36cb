"""gphoto2 backend scenarios against libgphoto2's virtual camera (a PTP Nikon D750).

Each runs in a fresh interpreter started by test_gphoto2_vcam.py, because
`VCAMERADIR` must be in the environment before `import gphoto2` for the wheel
to select its virtual USB driver. Assertions fail the process; the test
reports its output. Usage: python vcam_scenarios.py NAME WORKDIR
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import gphoto2 as gp

from raild.camera import create_camera
from raild.camera.errors import CameraBusy, CameraUnavailable, CaptureFailed, InvalidSetting, Unsupported
from raild.camera.gphoto2_camera import Gphoto2Camera
from raild.camera.gphoto2_session import Gphoto2Session
from raild.camera.wired import WiredShutter
from raild.config import Config

Scenario = Callable[[Path], Awaitable[None]]
SCENARIOS: dict[str, Scenario] = {}


def scenario(fn: Scenario) -> Scenario:
    SCENARIOS[fn.__name__] = fn
    return fn


def config(**camera: Any) -> Config:
    return Config().with_overrides(camera={"backend": "gphoto2", **camera})


def originals() -> set[bytes]:
    folder = Path(os.environ["VCAMERADIR"])
    return {p.read_bytes() for p in folder.iterdir() if p.suffix.lower() == ".jpg"}


async def camera_files(cam: Gphoto2Camera, folder: str) -> list[str]:
    def listing() -> list[str]:
        files = cam.session.call("list", lambda c: c.folder_list_files(folder))
        return [files.get_name(i) for i in range(files.count())]

    return await cam.worker.run(listing)


@scenario
async def capture_and_download(work: Path) -> None:
    cam = Gphoto2Camera(config(capture_mode="download"))
    await cam.open()
    status = cam.status()
    assert status == {"backend": "gphoto2", "connected": True, "model": "Nikon DSC D750"}, status
    out = work / "out"
    out.mkdir()
    known = originals()
    stop = threading.Event()
    seen: list[str] = []

    def watch() -> None:
        """Any frame visible under its real name must already be complete."""
        while not stop.is_set():
            # Names that show up in the same look are in no order of their own (a busy host
            # may look rarely): sorted, so "in order" compares looks, not listdir's order.
            for name in sorted(os.listdir(out)):
                if not name.startswith("."):
                    assert (out / name).read_bytes() in known, f"partial file visible: {name}"
                    if name not in seen:
                        seen.append(name)

    watcher = concurrent.futures.ThreadPoolExecutor(1).submit(watch)
    shots = [await cam.capture(out / f"frame_{i:04d}.jpg") for i in range(3)]
    written: list[int] = []
    for i, shot in enumerate(shots):
        assert shot.confirmed and shot.camera_file and shot.camera_file.startswith("/store"), shot
        shot.download.add_done_callback(lambda _f, i=i: written.append(i))
    paths = await asyncio.gather(*(s.download for s in shots))
    stop.set()
    watcher.result()
    assert written == [0, 1, 2], written
    assert seen == [f"frame_{i:04d}.jpg" for i in range(len(seen))], seen  # they appear in order
    for i, path in enumerate(paths):
        assert path == work / "out" / f"frame_{i:04d}.jpg"
        assert path.read_bytes() in known, "downloaded bytes are not one of the camera's images"
    assert sorted(os.listdir(work / "out")) == [f"frame_{i:04d}.jpg" for i in range(3)]
    # delete_after_download: the frames are gone from the camera.
    folder, _, name = shots[-1].camera_file.rpartition("/")
    assert name not in await camera_files(cam, folder)
    await cam.close()
    assert cam.status()["connected"] is False


@scenario
async def keep_on_camera(work: Path) -> None:
    cam = Gphoto2Camera(config(delete_after_download=False))
    await cam.open()
    shot = await cam.capture(work / "a.jpg")
    await shot.download
    folder, _, name = shot.camera_file.rpartition("/")
    assert name in await camera_files(cam, folder)
    await cam.close()


@scenario
async def trigger_and_file_event(work: Path) -> None:
    cam = Gphoto2Camera(config(capture_mode="trigger"))
    await cam.open()
    for i in range(2):
        shot = await cam.capture(work / f"t{i}.jpg")
        assert shot.confirmed and shot.camera_file.endswith(".JPG"), shot
        assert (await shot.download).read_bytes() in originals()
    await cam.close()


@scenario
async def settings_get_set(work: Path) -> None:
    cam = Gphoto2Camera(config())
    await cam.open()
    got = await cam.get_settings()
    # The virtual D750 offers f-number (listed as aperture), shutterspeed, capturetarget; no iso.
    assert {"aperture", "shutterspeed", "capturetarget"} <= set(got), got
    assert "iso" not in got
    assert got["capturetarget"].value == "Internal RAM"
    speed = got["shutterspeed"]
    new_speed = next(c for c in speed.choices if c != speed.value)
    await cam.set_settings({"shutterspeed": new_speed, "aperture": "f/5.6"})
    after = await cam.get_settings()
    assert after["shutterspeed"].value == new_speed and after["aperture"].value == "f/5.6", after
    await cam.set_settings({"f-number": "f/8"})  # the camera's own name works too
    assert (await cam.get_settings())["aperture"].value == "f/8"

    try:  # one bad value: nothing changes, and the error lists the choices
        await cam.set_settings({"shutterspeed": speed.value, "aperture": "f/99"})
        raise AssertionError("f/99 was accepted")
    except InvalidSetting as exc:
        assert exc.status == 422 and "f/5.6" in exc.choices and "f/99" in exc.message, exc
    assert (await cam.get_settings())["shutterspeed"].value == new_speed
    try:
        await cam.set_settings({"iso": "400"})
        raise AssertionError("iso was accepted")
    except InvalidSetting as exc:
        assert "no setting 'iso'" in exc.message and "shutterspeed" in exc.choices, exc
    await cam.close()


@scenario
async def capture_target_card(work: Path) -> None:
    cam = Gphoto2Camera(config(capture_target="card"))
    await cam.open()
    assert (await cam.get_settings())["capturetarget"].value == "Memory card"
    await cam.close()


@scenario
async def preview_unsupported(work: Path) -> None:
    cam = Gphoto2Camera(config())
    await cam.open()
    assert cam.capabilities.preview is True  # not known until the camera is asked
    for _ in range(2):
        try:
            await cam.preview()
            raise AssertionError("the virtual camera has no live view")
        except Unsupported as exc:
            assert exc.status == 503 and "live-view" in exc.message, exc
    assert cam.capabilities.preview is False
    shot = await cam.capture(work / "after.jpg")  # still usable
    assert await shot.download == work / "after.jpg"
    await cam.close()


@scenario
async def camera_absent(work: Path) -> None:
    assert "VCAMERADIR" not in os.environ
    cam = Gphoto2Camera(config())
    await cam.open()  # not fatal: the daemon keeps running and says why
    assert cam.status() == {"backend": "gphoto2", "connected": False, "model": None}
    for call in (lambda: cam.capture(work / "x.jpg"), cam.get_settings, cam.preview):
        try:
            await call()
            raise AssertionError("worked without a camera")
        except CameraUnavailable as exc:
            assert exc.status == 503 and "no camera found" in exc.message and "switched on" in exc.message
    assert not (work / "x.jpg").exists()
    await cam.close()


class Faulty:
    """The real virtual-camera handle with libgphoto2 errors injected into chosen calls."""

    def __init__(self, faults: dict[str, list[int]], stalls_s: dict[str, float] | None = None) -> None:
        self._real = gp.Camera()
        self._faults = faults
        self._stalls_s = stalls_s if stalls_s is not None else {}

    def __getattr__(self, name: str) -> Any:
        real = getattr(self._real, name)
        queue = self._faults.get(name)

        def call(*args: Any) -> Any:
            if queue:
                raise gp.GPhoto2Error(queue.pop(0))
            time.sleep(self._stalls_s.pop(name, 0.0))  # a camera that hangs inside a call
            return real(*args)

        return call


def session_with(
    faults: dict[str, list[int]],
    made: list[Faulty],
    stalls_s: dict[str, float] | None = None,
    cfg: Config | None = None,
    **kw: Any,
) -> Gphoto2Session:
    def factory() -> Faulty:
        made.append(Faulty(faults, stalls_s))
        return made[-1]

    return Gphoto2Session((cfg or config()).camera, camera_factory=factory, **kw)


@scenario
async def camera_hangs(work: Path) -> None:
    cfg = config(capture_timeout_s=0.3)
    stalls = {"capture": 1.0}
    cam = Gphoto2Camera(cfg, session=session_with({}, [], stalls, cfg))
    await cam.open()
    try:
        await cam.capture(work / "hung.jpg")
        raise AssertionError("a hung capture returned")
    except CaptureFailed as exc:
        assert "did not answer within 0.3 s" in exc.message and "capture_timeout_s" in exc.message, exc
    # Once the camera answers again (the hung call returns), the next frame works.
    await asyncio.sleep(1.0)
    shot = await cam.capture(work / "ok.jpg")
    assert await shot.download == work / "ok.jpg"
    await cam.close()


@scenario
async def injected_errors(work: Path) -> None:
    made: list[Faulty] = []
    naps: list[float] = []
    # Busy twice, then fine: retried with doubling backoff.
    faults = {"capture": [-110, -110]}
    cam = Gphoto2Camera(config(), session=session_with(faults, made, sleep=naps.append, busy_backoff_s=0.01))
    await cam.open()
    shot = await cam.capture(work / "busy.jpg")
    assert await shot.download and naps == [0.01, 0.02], naps
    # Busy for good: a 409 after the bounded retries.
    faults["capture"] = [-110] * 10
    try:
        await cam.capture(work / "never.jpg")
        raise AssertionError("busy camera captured")
    except CameraBusy as exc:
        assert exc.status == 409 and exc.gphoto2_code == -110 and len(naps) == 2 + 5
    faults["capture"] = []
    # Gone (-52 unplugged, -7 I/O): the handle is dropped, the next call reconnects.
    for code in (-52, -7):
        faults["capture"] = [code]
        try:
            await cam.capture(work / "gone.jpg")
            raise AssertionError("gone camera captured")
        except CameraUnavailable as exc:
            assert exc.gphoto2_code == code and "switched on" in exc.message
        assert cam.status()["connected"] is False
        shot = await cam.capture(work / f"back{code}.jpg")
        assert await shot.download == work / f"back{code}.jpg"
        assert cam.status()["connected"] is True
    assert len(made) == 3, len(made)
    # A time-out from the camera.
    faults["capture"] = [-10]
    try:
        await cam.capture(work / "slow.jpg")
        raise AssertionError("timed-out capture succeeded")
    except CaptureFailed as exc:
        assert "capture_timeout_s" in exc.message
    # A failed download fails the frame's download future, leaves no file, and the
    # next frame is unaffected.
    faults["file_get"] = [-7]
    bad = await cam.capture(work / "lost.jpg")
    try:
        await bad.download
        raise AssertionError("download of a vanished file succeeded")
    except CameraUnavailable:
        pass
    assert not (work / "lost.jpg").exists()
    good = await cam.capture(work / "next.jpg")
    assert await good.download == work / "next.jpg"
    await cam.close()

    # Another process (gvfs) holds the camera: the message says how to release it.
    claimed = Gphoto2Camera(config(), session=session_with({"init": [-53]}, []))
    await claimed.open()
    try:
        await claimed.get_settings()  # the claim is gone now: this call reconnects
    except CameraUnavailable:
        raise AssertionError("no reconnect after the claim was released") from None
    await claimed.close()
    blocked = Gphoto2Camera(config(), session=session_with({"init": [-53] * 5}, []))
    await blocked.open()
    try:
        await blocked.capture(work / "held.jpg")
        raise AssertionError("captured while claimed")
    except CameraUnavailable as exc:
        assert "gio mount -s gphoto2" in exc.message and "gvfs-gphoto2-volume-monitor" in exc.message
    await blocked.close()


@scenario
async def probe_claimed(work: Path) -> None:
    """The probe's own connect on a body that gvfs holds (-53 on every init)."""
    from raild.camera.probe_gphoto2 import run_probe

    made: list[Faulty] = []
    try:
        run_probe(config().camera, 1, session=session_with({"init": [-53] * 5}, made))
        raise AssertionError("probed a claimed camera")
    except CameraUnavailable as exc:
        assert exc.gphoto2_code == -53, exc
        assert "gio mount -s gphoto2" in exc.message and "gvfs-gphoto2-volume-monitor" in exc.message
    assert len(made) == 1


@scenario
async def probe_path_fails(work: Path) -> None:
    """One path loses the camera (-7 on its trigger): recorded, and the others still run."""
    from raild.camera.probe import recommend
    from raild.camera.probe_gphoto2 import run_probe

    made: list[Faulty] = []
    report = run_probe(config().camera, 1, session=session_with({"trigger_capture": [-7]}, made))
    failed = [p for p in report.paths if not p.ok]
    assert [p.spec.name for p in failed] == ["trigger+wait-for-file to ram"], [p.as_dict() for p in report.paths]
    assert failed[0].error is not None and "switched on" in failed[0].error
    assert sum(p.ok for p in report.paths) == 5 and len(made) == 2  # reconnected once
    assert recommend(report, config()).path is not None


class ReleaseCable(WiredShutter):
    """The virtual camera has no remote socket, so this harness stands in for the body's
    release input: once the real wired pulse (recorded by the virtual rig) ends, the
    virtual camera takes a picture through the camera's own worker thread, and reports
    it by USB events exactly as after any other trigger."""

    camera: Gphoto2Camera | None = None

    async def fire(self) -> None:
        await super().fire()
        assert self.camera is not None
        await self.camera.worker.run(self.camera.session.trigger)


@scenario
async def wire_trigger(work: Path) -> None:
    from gpiozero.pins.pigpio import PiGPIOFactory

    from raild.sim.rig import SimRig

    cfg = config(trigger="wire", capture_timeout_s=1.0, focus_ms=0, shutter_pulse_ms=30)
    rig = SimRig(cfg)
    rig.start_blocking("127.0.0.1", 0)
    factory = PiGPIOFactory(host="127.0.0.1", port=rig.port)

    def presses() -> int:
        return sum(1 for t in rig.rail.triggers if t.kind == "shutter" and t.active)

    try:
        # A body that ignores the cable: the wire fires, no file comes, a clear failure.
        deaf = create_camera(cfg, hw=SimpleNamespace(factory=factory), sim=None, events=None)
        assert isinstance(deaf, Gphoto2Camera)
        await deaf.open()
        try:
            await deaf.capture(work / "x.jpg")
            raise AssertionError("a capture nobody took was confirmed")
        except CaptureFailed as exc:
            assert "wired shutter fired" in exc.message and "release cable" in exc.message, exc
        await deaf.close()
        assert presses() == 1

        # Fire by wire, confirm and download by USB.
        cable = ReleaseCable(cfg, factory)
        cam = Gphoto2Camera(cfg, wired=cable)
        cable.camera = cam
        await cam.open()
        for i in range(2):
            shot = await cam.capture(work / f"w{i}.jpg")
            assert shot.confirmed and shot.camera_file.endswith(".JPG")
            assert (await shot.download).read_bytes() in originals()
        await cam.close()
        assert presses() == 3
    finally:
        factory.close()
        rig.stop_blocking()


if __name__ == "__main__":
    asyncio.run(SCENARIOS[sys.argv[1]](Path(sys.argv[2])))
    print("scenario ok:", sys.argv[1])
