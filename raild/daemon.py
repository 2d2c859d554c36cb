"""The daemon: wires the layers together and owns their lifecycle.

It builds (in order) the virtual rig when simulating, the pigpio connection (or
the grbl drive), the rail, the camera, the stack manager, the buttons and the focus
service, and tears them down the other way round (buttons first, virtual rig last).
The API reads everything through this object; nothing below it knows HTTP.

When pigpiod cannot be reached the daemon still starts: `/health` and `/status`
answer (state `fault`), hardware routes get 503, and a background task keeps
reconnecting with backoff, bringing the rail and stacks up once it succeeds.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from raild import __version__
from raild.config import Config
from raild.events import EventBus
from raild.logs import log_event

if TYPE_CHECKING:  # the layers import config and events from here; types only, no cycle at run time
    from raild.camera import Camera
    from raild.daemon_actions import DaemonControls
    from raild.focus.service import FocusService
    from raild.hw import Hardware
    from raild.motion import Rail
    from raild.sim import SimRig
    from raild.sim.grbl.sim import GrblSim
    from raild.stacks import StackManager

log = logging.getLogger("raild.daemon")
RECONNECT_FIRST_S = 0.5
RECONNECT_MAX_S = 5.0
STOP_STEP_TIMEOUT_S = 2.0


async def _maybe_await(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


class Daemon:
    def __init__(self, config: Config, state_dir: Path, token: str, sim: bool) -> None:
        self.config = config
        self.state_dir = state_dir
        self.token = token
        self.sim_mode = sim
        self.events = EventBus()
        self.version = __version__
        # Filled in by start() as each layer comes up.
        self.sim: SimRig | GrblSim | None = None  # the virtual rig in --sim (pigpiod or grbl emulator)
        self.hw: Hardware | None = None  # the pigpiod connection (None with the grbl drive)
        self.rail: Rail | None = None
        self.camera: Camera | None = None
        self.stacks: StackManager | None = None
        self.focus: FocusService | None = None  # analyses frames as they land
        self.controls: DaemonControls | None = None  # the [buttons] panel (raild/daemon_actions.py)
        self.last_stack_request: dict[str, Any] | None = None  # what the start button starts again
        from raild.camera.test_shots import TestShots

        self.test_shots = TestShots(state_dir)  # captures outside any stack
        self.pigpio_address: tuple[str, int] = (config.pigpio.host, config.pigpio.port)
        self._hardware_error: str | None = None
        self._reconnect_task: asyncio.Task[None] | None = None
        self._stopping = False
        self._grbl = config.drive.backend == "grbl"  # the rail is on a grbl board: no pigpiod
        self._grbl_url: str | None = None  # the in-process emulator's URL in --sim

    # ---- start-up (docs/internals.md "Start-up order") ----

    async def start(self) -> None:
        self._stopping = False
        self.events.bind_loop(asyncio.get_running_loop())
        log_event(log, "daemon starting", sim=self.sim_mode, state_dir=str(self.state_dir))
        if self.sim_mode and self._grbl:
            from raild.drives.factory import start_grbl_sim

            self.sim, self._grbl_url = await start_grbl_sim(self.config)
        elif self.sim_mode:
            from raild.sim import SimRig

            self.sim = SimRig(self.config)
            await self.sim.start(host="127.0.0.1", port=self.config.sim.pigpio_port)
            self.pigpio_address = ("127.0.0.1", self.sim.port)
        if not await self._connect_hardware():
            self._reconnect_task = asyncio.create_task(self._reconnect(), name="pigpio-reconnect")
        if self.camera is None and not self._camera_needs_hw():
            await self._open_camera()
        from raild.focus.service import FocusService

        self.focus = FocusService(self.state_dir, self.events)
        await self.focus.start()

    def _camera_needs_hw(self) -> bool:
        cam = self.config.camera
        wired = cam.backend == "gpio" or (cam.backend == "gphoto2" and cam.trigger == "wire")
        if self._grbl:  # no pigpiod: a wired shutter is on gpiozero's default pin factory...
            return wired and cam.shutter_output == "grbl_coolant"  # ...or on the grbl drive's coolant pin
        return wired

    async def _connect_hardware(self) -> bool:
        """pigpio connection, rail, then what depends on them. False if pigpiod is down."""
        if self._grbl:
            return await self._connect_grbl()
        from raild.hw import Hardware
        from raild.motion import Rail

        host, port = self.pigpio_address
        try:
            self.hw = await Hardware.connect(self.config, host, port)
        except Exception as exc:  # any failure to reach pigpiod leaves us in `fault`
            self._hardware_error = f"pigpiod at {host}:{port} is unreachable ({exc}); retrying"
            log_event(log, "pigpiod unreachable", logging.WARNING, host=host, port=port, error=str(exc))
            return False
        self.hw.on_lost(self._on_hardware_lost)
        rail = Rail(self.config, self.hw, self.events)
        try:
            await rail.start()
        except Exception as exc:  # the connection dropped while setting up the pins
            self._hardware_error = f"pigpiod at {host}:{port} failed during start-up ({exc}); retrying"
            log_event(log, "rail start failed", logging.WARNING, error=str(exc))
            hw, self.hw = self.hw, None
            with contextlib.suppress(Exception):
                await hw.close()
            return False
        await self._rail_ready(rail)
        log_event(log, "rail ready", host=host, port=port)
        return True

    async def _connect_grbl(self) -> bool:
        """The rail on a grbl board (docs/internals.md "grbl drive"). False if it is not there
        or its settings do not match (the message says which and how to fix them)."""
        from raild.drives.factory import make_grbl_drive
        from raild.drives.protocol import DriveFault
        from raild.motion import Rail

        drive = make_grbl_drive(self.config, self._grbl_url)
        rail = Rail(self.config, None, self.events, drive=drive)
        try:
            await rail.start()
        except DriveFault as exc:
            self._hardware_error = f"grbl board at {drive.url}: {exc}"
            log_event(log, "grbl drive not available", logging.WARNING, port=drive.url, error=str(exc))
            with contextlib.suppress(Exception):
                await drive.close()
            return False
        await self._rail_ready(rail)
        log_event(log, "rail ready", drive="grbl", port=drive.url)
        return True

    async def _rail_ready(self, rail: Rail) -> None:
        """What runs on a rail, whichever drive moves it: camera, stacks, controls.

        The rail and its stack manager are published together, with no await between:
        a client that sees the rail up (state `idle`) finds `/stacks` up too, never a 503
        from a manager still loading its stacks after a reconnect."""
        if self.camera is None:
            await self._open_camera(rail)
        try:
            stacks = await self._start_stacks(rail)
        except asyncio.CancelledError:  # daemon stopping: the unpublished rail is ours to close
            with contextlib.suppress(Exception):
                await asyncio.wait_for(rail.close(), STOP_STEP_TIMEOUT_S)
            raise
        self.rail = rail
        if stacks is not None:
            self.stacks = stacks
        self._hardware_error = None
        await self._start_controls()
        self.events.publish("rail:status", rail.status())

    async def _start_controls(self) -> None:
        from raild.daemon_actions import start_controls

        try:
            self.controls = await start_controls(self)
        except Exception as exc:  # a missing button must not keep the rail from serving
            log_event(log, "physical controls not available", logging.ERROR, error=str(exc))

    async def _open_camera(self, rail: Rail | None = None) -> None:
        """`rail`: the rail being brought up (not yet published), whose grbl drive's coolant
        pin may fire a wired shutter."""
        from raild.camera import CameraError, create_camera

        try:
            drive = rail.drive if rail is not None else None
            self.camera = create_camera(self.config, hw=self.hw, sim=self.sim, events=self.events, drive=drive)
        except ValueError as exc:  # e.g. a wired shutter with no GPIO to drive it (grbl in --sim)
            log_event(log, "camera not available", logging.ERROR, backend=self.config.camera.backend, error=str(exc))
            return
        try:
            await self.camera.open()
        except CameraError as exc:
            # The camera object stays: its status says disconnected and its routes 503.
            log_event(log, "camera not available", logging.WARNING, backend=self.camera.backend, error=str(exc))

    async def _start_stacks(self, rail: Rail) -> StackManager | None:
        """A started manager for `rail`, for the caller to publish; None without a camera."""
        if self.stacks is not None or self.camera is None:
            return None
        from raild.stacks import StackManager

        stacks = StackManager(self.config, self.state_dir, rail, self.camera, self.events)
        await stacks.start()
        return stacks

    def _on_hardware_lost(self, reason: str) -> None:
        """Called on the loop when pigpiod goes away: drop the layers built on that
        connection (the status says `fault`, hardware routes 503) and reconnect."""
        self._hardware_error = f"pigpiod connection lost ({reason}); reconnecting"
        self.events.publish("daemon:fault", {"code": "pigpiod_lost", "message": self._hardware_error})
        if self._stopping or (self._reconnect_task is not None and not self._reconnect_task.done()):
            return
        self._reconnect_task = asyncio.create_task(self._recover(), name="pigpio-recover")

    async def _recover(self) -> None:
        stacks, rail, hw = self.stacks, self.rail, self.hw
        controls, self.controls = self.controls, None
        camera = self.camera if self._camera_needs_hw() else None
        self.stacks = self.rail = self.hw = None
        if camera is not None:
            self.camera = None
        self.events.publish("rail:status", {})
        for action in (
            controls.close if controls is not None else None,
            stacks.stop if stacks is not None else None,
            camera.close if camera is not None else None,
            rail.close if rail is not None else None,
            hw.close if hw is not None else None,
        ):
            if action is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(_maybe_await(action()), STOP_STEP_TIMEOUT_S)
        await self._reconnect()

    async def _reconnect(self) -> None:
        delay_s = RECONNECT_FIRST_S
        while not self._stopping:
            await asyncio.sleep(delay_s)
            if await self._connect_hardware():
                log_event(log, "pigpiod reconnected")
                return
            delay_s = min(delay_s * 2, RECONNECT_MAX_S)

    # ---- tear-down (reverse order) ----

    async def stop(self) -> None:
        self._stopping = True
        if self._reconnect_task is not None:
            self._reconnect_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reconnect_task
        steps: tuple[tuple[str, Callable[[], Any] | None], ...] = (
            ("controls", self.controls.close if self.controls is not None else None),
            ("focus", self.focus.stop if self.focus is not None else None),
            ("stacks", self.stacks.stop if self.stacks is not None else None),
            ("camera", self.camera.close if self.camera is not None else None),
            ("rail", self.rail.close if self.rail is not None else None),
            ("hw", self.hw.close if self.hw is not None else None),
            ("sim", self.sim.stop if self.sim is not None else None),
        )
        for name, action in steps:
            if action is None:
                continue
            try:
                await asyncio.wait_for(_maybe_await(action()), STOP_STEP_TIMEOUT_S)
            except Exception as exc:  # keep tearing down the rest
                log_event(log, "stop step failed", logging.WARNING, layer=name, error=repr(exc))
        # Back to the state before start(), so the daemon can be started again.
        self.sim = self.hw = self.rail = self.camera = self.stacks = self.controls = None
        self.focus = None
        self._reconnect_task = None
        self._hardware_error = None
        log_event(log, "daemon stopped")

    # ---- what the API reads ----

    def hardware_problem(self) -> str:
        if self._hardware_error:
            return self._hardware_error
        if self.rail is None:
            return "the rail is not started"
        if self.hw is not None and not self.hw.connected:
            return f"pigpiod connection lost ({self.hw.lost_reason})"
        return "the hardware is not available"

    def status(self) -> dict[str, Any]:
        """The `GET /status` document (API.md), assembled from each layer's status."""
        from raild.motion.units import soft_limits_um

        min_um, max_um = soft_limits_um(self.config)  # the rail's own, whether or not it is up
        rail: dict[str, Any] = (
            self.rail.status()
            if self.rail is not None
            else {
                "state": "fault",
                "position_um": None,
                "position_steps": None,
                "position_known": False,
                "homed": False,
                "motor_enabled": False,
                "limits": {"min_um": min_um, "max_um": max_um},
                "switches": {"min": False, "max": False},
                "fault": {
                    "code": ("drive_unavailable" if self._grbl else "pigpiod_unreachable")
                    if self._hardware_error
                    else "no_rail",
                    "message": self.hardware_problem(),
                },
            }
        )
        camera = (
            self.camera.status()
            if self.camera is not None
            else {
                "backend": self.config.camera.backend,
                "connected": False,
                "model": None,
            }
        )
        job = self.stacks.job_summary() if self.stacks is not None else None
        return {**rail, "camera": camera, "job": job}

    # ---- commands that span layers ----

    async def stop_motion(self) -> None:
        """`POST motion/stop` (and any stop button): a running stack pauses, resumable,
        and the rail stops with its position exact. The stack layer orders the two."""
        if self.rail is None:
            from raild.hw.errors import HardwareUnavailable

            raise HardwareUnavailable(self.hardware_problem())
        if self.focus is not None:
            self.focus.scanner.cancel()  # a focus scan ends too, not only its current move
        if self.stacks is not None:
            await self.stacks.stop_rail()
        else:
            await self.rail.stop()

    def create_stack(self, request: dict[str, Any]) -> Any:
        """`POST stacks` (and the start button): plan and start; remember the request,
        which the start button runs again."""
        if self.stacks is None:
            from raild.hw.errors import HardwareUnavailable

            raise HardwareUnavailable(self.hardware_problem())
        stack = self.stacks.create(request)
        self.last_stack_request = request
        return stack
