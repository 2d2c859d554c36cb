"""The daemon's side of the physical controls: `ControlActions` on the daemon's layers.

Called on gpiozero's callback thread. The e-stop acts right there, through the
rail's thread-safe `estop()` (it halts the wave and disables the driver over
pigpio directly), so it works while the event loop is blocked or the HTTP
server saturated. Everything else is handed to the loop and runs there as the
matching API route would, with the same refusals; a refusal is published as a
`controls:refused` event (`{"action", "message"}`) instead of an HTTP problem.

Jogging: a held jog button renews the rail's hold-to-jog (`Rail.jog`, a continuous
move with a dead-man); releasing it stops the rail (decelerated). Encoder detents
are `jog_step_um` moves; detents that come during a move add up.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from raild.controls import Controls
from raild.controls.actions import Direction
from raild.logs import log_event
from raild.usecases.motion import manual_rail

if TYPE_CHECKING:
    from raild.daemon import Daemon
    from raild.motion import Rail
    from raild.stacks import StackManager

log = logging.getLogger("raild.controls")
REFUSAL_REPEAT_S = 2.0  # the same refusal is published at most this often
_SIGN = {"+": 1, "-": -1}
_STACKING = ("queued", "running")
_RESUMABLE = ("pausing", "paused", "interrupted", "failed")


class Refused(Exception):
    """A control cannot act now (the message says why)."""


class DaemonActions:
    def __init__(self, daemon: Daemon, loop: asyncio.AbstractEventLoop) -> None:
        self._daemon = daemon
        self._loop = loop
        self._tasks: set[asyncio.Task[Any]] = set()
        self._jogging = False  # a rail.jog was accepted and not yet stopped
        self._pending_steps = 0
        self._step_task: asyncio.Task[None] | None = None
        self._last_refusal: tuple[str, str] | None = None
        self._last_refusal_s = 0.0

    # ----- ControlActions (gpiozero's callback thread) -----
    def estop(self) -> None:
        rail = self._daemon.rail
        if rail is not None:
            rail.estop()
            log_event(log, "e-stop button", logging.WARNING)

    def stop(self) -> None:
        self._on_loop("stop", self._stop)

    def start_pause_resume(self) -> None:
        self._on_loop("start", self._start_pause_resume)

    def jog_start(self, direction: Direction) -> None:
        self._on_loop("jog", lambda: self._jog_start(direction))

    def jog_stop(self) -> None:
        self._on_loop("jog", self._jog_stop)

    def jog_step(self, direction: Direction) -> None:
        self._on_loop("jog_step", lambda: self._jog_step(direction))

    # ----- on the loop -----
    def _on_loop(self, action: str, work: Callable[[], Awaitable[None] | None]) -> None:
        def run() -> None:
            try:
                result = work()
            except Exception as exc:
                self._refused(action, exc)
                return
            if inspect.isawaitable(result):
                self._spawn(action, result)

        self._loop.call_soon_threadsafe(run)

    def _spawn(self, action: str, work: Awaitable[None]) -> asyncio.Task[None]:
        async def guarded() -> None:
            try:
                await work
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self._refused(action, exc)

        task = self._loop.create_task(guarded(), name=f"controls-{action}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _refused(self, action: str, exc: Exception) -> None:
        message = str(exc) or type(exc).__name__
        if not isinstance(exc, Refused) and not hasattr(exc, "status"):
            log.exception("control %s failed", action, exc_info=exc)
        # A held jog button is renewed every 150 ms: say a refusal once, not each time.
        now_s = time.monotonic()
        if self._last_refusal == (action, message) and now_s - self._last_refusal_s < REFUSAL_REPEAT_S:
            return
        self._last_refusal, self._last_refusal_s = (action, message), now_s
        log_event(log, "control refused", logging.INFO, action=action, reason=message)
        self._daemon.events.publish("controls:refused", {"action": action, "message": message})

    def _rail(self) -> Rail:
        rail = self._daemon.rail
        if rail is None:
            raise Refused(self._daemon.hardware_problem())
        return rail

    def _stacks(self) -> StackManager:
        stacks = self._daemon.stacks
        if stacks is None:
            raise Refused("stacks are not available: " + self._daemon.hardware_problem())
        return stacks

    def _manual_rail(self) -> Rail:
        """The rail for a hand command: refused while a stack drives it (as the API does)."""
        return manual_rail(self._daemon, "pause it before jogging")

    async def _stop(self) -> None:
        self._pending_steps = 0
        self._jogging = False
        # Exactly what POST motion/stop does: a running stack pauses, the rail stops.
        await self._daemon.stop_motion()

    def _start_pause_resume(self) -> None:
        stacks = self._stacks()
        job = stacks.job_summary()
        state = job["state"] if job is not None else None
        if job is not None and state in _STACKING:
            stacks.pause(job["id"])
        elif job is not None and state in _RESUMABLE:
            stacks.resume(job["id"])
        elif job is not None and state == "cancelling":
            raise Refused(f"stack {job['id']} is cancelling")
        else:
            request = self._daemon.last_stack_request
            if request is None:
                raise Refused("no stack has been set up since the daemon started; set one up on the phone")
            self._daemon.create_stack(request)

    # jog: start or renew the rail's hold-to-jog (its dead-man stops a lost button)
    def _jog_start(self, direction: Direction) -> Awaitable[None]:
        return self._rail_jog(self._manual_rail(), direction)

    async def _rail_jog(self, rail: Rail, direction: Direction) -> None:
        await rail.jog(direction)
        self._jogging = True

    def _jog_stop(self) -> Awaitable[Any] | None:
        if self._jogging:
            self._jogging = False
            return self._rail().stop()
        return None

    def _jog_step(self, direction: Direction) -> None:
        self._manual_rail()
        self._pending_steps += _SIGN[direction]
        if self._step_task is None or self._step_task.done():
            self._step_task = self._spawn("jog_step", self._drain_steps())

    async def _drain_steps(self) -> None:
        """Detents that come while a step moves add up and go as one move."""
        step_um = self._daemon.config.buttons.jog_step_um
        try:
            while self._pending_steps:
                rail = self._manual_rail()
                steps, self._pending_steps = self._pending_steps, 0
                await rail.move_by_um(steps * step_um, approach=False)
        finally:
            self._pending_steps = 0

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)


class DaemonControls:
    """The panel and the daemon's actions behind it, closed together."""

    def __init__(self, controls: Controls, actions: DaemonActions) -> None:
        self.controls = controls
        self.actions = actions

    async def close(self) -> None:
        await self.controls.close()
        await self.actions.close()


async def start_controls(daemon: Daemon) -> DaemonControls | None:
    """Build the `[buttons]` panel on the daemon's gpiozero factory; None when none is fitted."""
    config = daemon.config.buttons
    if not config.fitted():
        return None
    if daemon.hw is not None:
        factory = daemon.hw.factory
    elif daemon.config.drive.backend == "grbl" and not daemon.sim_mode:
        factory = None  # no pigpiod: gpiozero's default pin factory (lgpio on a Pi 5)
    else:
        log.warning("[buttons] are not available in --sim with the grbl drive (no simulated GPIO)")
        return None
    actions = DaemonActions(daemon, asyncio.get_running_loop())
    controls = Controls(config, factory, actions, daemon.events, daemon.status)
    await controls.start()
    return DaemonControls(controls, actions)
