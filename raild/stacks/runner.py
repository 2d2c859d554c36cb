"""Runs one stack: move, settle, shoot, confirm, record; frame after frame.

The download of frame k runs while the rail moves to the next position and settles;
frame k is recorded once its file is on disk, just before the next exposure, and its
manifest rewrite runs beside that exposure. So order is preserved and at most one
frame is ever in flight. Pause and cancel are honoured at frame boundaries. A rail
stop interrupts the move at once and leaves the stack `paused` (resumable); an e-stop or
fault fails it. A cancel drives back to the start when the plan says `return_to_start`,
unless a stop interrupted the cancel (the stop wins).
"""

from __future__ import annotations

import asyncio
import errno
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from raild.camera.errors import CameraError, CaptureFailed
from raild.camera.protocol import Camera, Capture
from raild.hw.errors import HardwareUnavailable
from raild.logs import log_event
from raild.motion.errors import HostFellBehind, MoveInterrupted
from raild.stacks.journal import Journal
from raild.stacks.model import FrameRecord, Stack, iso_utc
from raild.stacks.rail_port import StackRail

log = logging.getLogger("raild.stacks.runner")
RAIL_FAULT_STATES = frozenset({"fault", "estop"})
# Faults that mean the link to the rail's hardware went (pigpiod gone, the grbl board unplugged):
# nothing about the stack failed, so it is left `interrupted`, to resume once homed again.
LINK_LOST_FAULTS = frozenset({"pigpio_lost", "drive_lost"})
LINK_LOST = {
    "code": "interrupted",
    "message": "the link to the rail's hardware was lost during this stack; home the rail, then resume",
}
# The host froze while streaming steps and the motor may have stalled: the position is
# unknown, but the frames taken are good, so the stack waits to be resumed once homed.
HOST_BEHIND = {
    "code": "interrupted",
    "message": "the host fell behind while streaming steps and the motor may have stalled; home the rail, then resume",
}
POSITION_LOST = {
    "code": "interrupted",
    "message": "the rail lost its position during this stack; home the rail, then resume",
}
MAX_BACKOFF_S = 10.0  # camera retries back off doubling from the base, up to this


class StorageFailed(Exception):
    """A frame or the manifest could not be written (disk full, read-only, gone)."""


class RailFailed(Exception):
    """The rail faulted, was e-stopped, stopped or refused a move during the stack."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        stopped: bool = False,
        lost: bool = False,
        host_behind: bool = False,
        position_lost: bool = False,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.stopped = stopped  # a plain stop interrupted the move: nothing is latched
        self.lost = lost  # the hardware link went: the stack is interrupted, not failed
        self.host_behind = host_behind  # the drive gave the position up (HostFellBehind): interrupted
        self.position_lost = position_lost  # the rail forgot its position between moves: interrupted


@dataclass
class _InFlight:
    index: int
    capture: Capture
    dest: Path


@dataclass(frozen=True)
class RunnerTiming:
    retries: int
    retry_backoff_s: float
    capture_timeout_s: float
    planned_frame_s: float  # per frame, from the plan's estimate, until measured
    return_s: float


class StackRunner:
    def __init__(
        self,
        stack: Stack,
        rail: StackRail,
        camera: Camera,
        journal: Journal,
        frame_dest: Callable[[int], Path],
        timing: RunnerTiming,
    ) -> None:
        self.stack = stack
        self.rail = rail
        self.camera = camera
        self.journal = journal
        self.frame_dest = frame_dest
        self.timing = timing
        self.request: str | None = None  # "pause" or "cancel", honoured at a frame boundary
        self._wake = asyncio.Event()
        self._failures: dict[int, int] = {}
        self._camera_reason: dict[str, str] | None = None
        self._saving: tuple[asyncio.Task[None], int] | None = None
        self._last_shot_s: float | None = None  # monotonic end of the last exposure
        self._frame_times: list[float] = []

    # -- control, from the manager ---------------------------------------------------
    def ask(self, request: str | None) -> None:
        self.request = request
        self._wake.set()

    # -- the run -----------------------------------------------------------------------
    async def run(self) -> None:
        """Drive the stack to `paused`, `cancelled`, `completed` or `failed`."""
        stack = self.stack
        if self.request is None and (stack.state != "running" or stack.error is not None):
            self.journal.state(stack, "running")
        self._update_eta()
        try:
            while True:
                await self._frames()
                outcome = self._outcome_at_boundary()
                if outcome == ("cancelled", None):
                    await self._cancelled()
                    return
                if outcome is not None:
                    self.journal.state(stack, outcome[0], outcome[1])
                    return
                if stack.next_index() > stack.plan.frames:
                    await self._finish()
                    return
                # A pause withdrawn while the last frame was being recorded: carry on.
        except RailFailed as exc:
            if self.request == "cancel":  # the stop that came with a cancel: expected
                await self._cancelled(exc)
            elif exc.lost:  # whichever notices first, this or the daemon's reconnect, says interrupted
                self.journal.state(stack, "interrupted", dict(LINK_LOST))
            elif exc.host_behind:  # not a stop the user asked for: resume after homing
                self.journal.state(stack, "interrupted", dict(HOST_BEHIND))
            elif exc.position_lost:
                self.journal.state(stack, "interrupted", dict(POSITION_LOST))
            elif exc.stopped:  # POST motion/stop (or a stop button): resumable, not a failure
                reason = None if self.request == "pause" else {"code": "stopped", "message": self._stopped_message()}
                self.journal.state(stack, "paused", reason)
            else:
                self.journal.state(stack, "failed", {"code": exc.code, "message": exc.message})
        except StorageFailed as exc:
            self.journal.state(stack, "failed", {"code": "storage", "message": str(exc)})

    def _stopped_message(self) -> str:
        return f"the rail was stopped during a move; resume to carry on from frame {self.stack.next_index()}"

    async def _cancelled(self, interrupted: RailFailed | None = None) -> None:
        """End as `cancelled`, back at the start first when the plan asks for it. A stop
        that interrupted the cancel means "stay": no move after it."""
        stack = self.stack
        error = None
        if interrupted is not None and not interrupted.stopped:
            error = {"code": interrupted.code, "message": f"cancelled; {interrupted.message}"}
        elif interrupted is None and stack.plan.return_to_start and self._rail_ready():
            try:
                await self._move(stack.plan.positions_steps[0])
            except RailFailed as exc:
                error = {"code": "return_failed", "message": f"cancelled, but {exc.message}"}
        self.journal.state(stack, "cancelled", error)

    def _rail_ready(self) -> bool:
        return self.rail.state == "idle" and self.rail.position_known

    def _outcome_at_boundary(self) -> tuple[str, dict[str, str] | None] | None:
        if self.request == "cancel":
            return "cancelled", None
        if self.request == "pause":
            return "paused", None
        if self.request == "camera":
            return "paused", self._camera_reason
        return None

    async def _frames(self) -> None:
        """Shoot every frame not yet captured; returns early at a requested boundary."""
        stack = self.stack
        plan = stack.plan
        at_position: int | None = None  # position reached and settled at
        settle_ms = plan.first_settle  # the first frame of a run (or after a resume)
        in_flight: _InFlight | None = None
        index = stack.next_index()
        try:
            while True:
                if index > plan.frames:
                    if in_flight is None:
                        return
                    flight, in_flight = in_flight, None
                    failed = await self._record(flight)
                    if failed is None:
                        continue
                    index = failed
                    if not await self._retry_wait(index):
                        return
                    continue
                if self.request is not None:
                    return
                position = plan.position_of(index)
                target = plan.positions_steps[position]
                if at_position != position:
                    at_position = None
                    await self._move(target)
                    if not await self._wait_ms(settle_ms):
                        return  # woken by pause/cancel: settle again on resume
                    at_position, settle_ms = position, plan.settle_ms
                if in_flight is not None:
                    flight, in_flight = in_flight, None
                    failed = await self._record(flight)
                    if failed is not None:
                        index = failed
                        if not await self._retry_wait(index):
                            return
                        continue
                # Flash recycle: shots at least `shot_interval_ms` apart, moves included.
                if not await self._wait_ms(self._interval_left_ms()):
                    return
                self._check_rail()
                if self.rail.position_steps != target or not self.rail.position_known:
                    at_position = None  # moved by someone else meanwhile: go back, settle again
                    continue
                try:
                    in_flight = await self._capture(index)
                except CameraError as exc:
                    self._camera_error(index, exc)
                    if not await self._retry_wait(index):
                        return
                    continue
                index += 1
        finally:
            if in_flight is not None:
                # Leaving early (boundary, fault): keep what was already exposed.
                await self._record(in_flight)
            await self._saved()

    # -- steps -----------------------------------------------------------------------
    async def _move(self, steps: int) -> None:
        self._check_rail()
        try:
            await self.rail.move_to_steps(steps)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # any MotionError: the fault is the stack's error
            code = getattr(exc, "code", None) or type(exc).__name__
            stopped = isinstance(exc, MoveInterrupted) and self.rail.state not in RAIL_FAULT_STATES
            raise RailFailed(
                str(code),
                f"move to {self.rail.steps_to_um(steps):.1f} µm failed: {exc}",
                stopped=stopped,
                lost=isinstance(exc, HardwareUnavailable) or self._link_lost(),
                host_behind=isinstance(exc, HostFellBehind),
            ) from exc
        if self.rail.position_steps != steps:
            raise RailFailed(
                "position", f"the rail ended at {self.rail.position_steps} steps, not {steps}; home it and resume"
            )

    def _check_rail(self) -> None:
        state = self.rail.state
        if state in RAIL_FAULT_STATES:
            raise RailFailed(
                state, f"the rail is in {state} state; reset and home it, then resume", lost=self._link_lost()
            )
        if not self.rail.position_known:
            # Lost between moves (a link that dropped and came back, an idle motor-off that
            # forgets the position): a stack never moves from an unknown position.
            raise RailFailed("position_unknown", POSITION_LOST["message"], position_lost=True)

    def _link_lost(self) -> bool:
        fault = self.rail.status().get("fault")
        return isinstance(fault, dict) and fault.get("code") in LINK_LOST_FAULTS

    async def _wait_ms(self, ms: int) -> bool:
        """Sleep unless a pause/cancel arrives first; True when the full time passed."""
        if self.request is not None:
            return False
        if ms <= 0:
            return True
        self._wake.clear()
        try:
            await asyncio.wait_for(self._wake.wait(), ms / 1000.0)
        except TimeoutError:
            return True
        return self.request is None

    def _interval_left_ms(self) -> int:
        interval_ms = self.stack.plan.shot_interval_ms
        if not interval_ms or self._last_shot_s is None:
            return 0
        return max(0, round(interval_ms - (time.monotonic() - self._last_shot_s) * 1000))

    async def _capture(self, index: int) -> _InFlight:
        dest = self.frame_dest(index)
        try:
            capture = await self.camera.capture(dest)
        finally:
            self._last_shot_s = time.monotonic()
        if not capture.confirmed and self.camera.capabilities.confirm:
            capture.download.cancel()
            raise CaptureFailed("the camera did not confirm the exposure")
        return _InFlight(index, capture, dest)

    async def _record(self, flight: _InFlight) -> int | None:
        """Wait for the frame's file and record it; the index to shoot again on failure."""
        try:
            path = await asyncio.wait_for(asyncio.shield(flight.capture.download), self.timing.capture_timeout_s)
        except CameraError as exc:
            self._camera_error(flight.index, exc)
            return flight.index
        except TimeoutError:
            self._camera_error(
                flight.index, CaptureFailed(f"no file arrived within {self.timing.capture_timeout_s:g} s")
            )
            return flight.index
        except OSError as exc:
            raise StorageFailed(self._storage_message(flight.index, exc)) from exc
        await self._saved()
        stack = self.stack
        plan = stack.plan
        position = plan.position_of(flight.index)
        size: int | None = None
        if path is not None:
            try:
                size = path.stat().st_size
            except OSError as exc:
                raise StorageFailed(self._storage_message(flight.index, exc)) from exc
        time_s = flight.capture.time_s or time.time()
        record = FrameRecord(
            index=flight.index,
            position_index=position,
            shot=plan.shot_of(flight.index),
            position_um=plan.positions_um[position],
            position_steps=plan.positions_steps[position],
            time=iso_utc(time_s),
            time_s=time_s,
            file=None if path is None else path.name,
            size=size,
            confirmed=flight.capture.confirmed,
        )
        stack.frames[flight.index] = record
        self._frame_times.append(time.monotonic())
        self._update_eta()
        # The manifest is written while the rail moves on; `_saved` collects the result.
        self._saving = (asyncio.get_running_loop().create_task(self.journal.save(stack)), flight.index)
        self.journal.frame(stack, record)
        return None

    async def _saved(self) -> None:
        """Wait for the last manifest write; if it failed, its frame was not captured."""
        if self._saving is None:
            return
        (task, index), self._saving = self._saving, None
        try:
            await task
        except OSError as exc:
            # Not in the manifest on disk, so not captured: a resume shoots it again
            # (over the same file name, so an index still maps to one file).
            self.stack.frames.pop(index, None)
            raise StorageFailed(self._storage_message(index, exc)) from exc

    def _storage_message(self, index: int, exc: OSError) -> str:
        if exc.errno == errno.ENOSPC:
            return f"the disk is full: frame {index} could not be saved; free space and resume ({exc.strerror or exc})"
        return f"frame {index} could not be saved: {exc.strerror or exc}"

    def _camera_error(self, index: int, exc: CameraError) -> None:
        count = self._failures.get(index, 0) + 1
        self._failures[index] = count
        log_event(
            log, "camera error", logging.WARNING, stack=self.stack.id, frame=index, attempt=count, error=exc.message
        )
        if count > self.timing.retries:
            self._camera_reason = {
                "code": exc.code,
                "message": f"camera failed on frame {index} after {count} attempts: {exc.message}; "
                "fix the camera and resume",
            }
            if self.request is None:
                self.request = "camera"

    async def _retry_wait(self, index: int) -> bool:
        """Back off before shooting `index` again; False when the stack must stop now."""
        if self.request is not None:
            return False
        attempt = self._failures.get(index, 1)
        backoff_s = min(MAX_BACKOFF_S, self.timing.retry_backoff_s * 2 ** (attempt - 1))
        return await self._wait_ms(int(1000 * backoff_s))

    async def _finish(self) -> None:
        stack = self.stack
        stack.eta_s = 0.0
        stack.eta_at_s = time.monotonic()
        error = None
        if stack.plan.return_to_start:
            try:
                await self._move(stack.plan.positions_steps[0])
            except RailFailed as exc:
                # Every frame is safe; only the courtesy move failed.
                error = {"code": "return_failed", "message": f"frames complete, but {exc.message}"}
        # Reported only once on disk: a client that takes the folder on `completed` gets it whole.
        await self.journal.state_on_disk(stack, "completed", error)

    def _update_eta(self) -> None:
        stack = self.stack
        left = stack.total_frames - stack.frame
        times = self._frame_times
        per_frame_s = self.timing.planned_frame_s
        if len(times) >= 3:  # measured pace, once the first moves are behind us
            per_frame_s = (times[-1] - times[0]) / (len(times) - 1)
        stack.eta_s = left * per_frame_s + (self.timing.return_s if left else 0.0)
        stack.eta_at_s = time.monotonic()
