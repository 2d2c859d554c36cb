"""`StackManager`: the stack layer's face to the daemon and the API.

Holds every stack (loaded from disk at start-up), allows one to run at a time, and
turns pause/resume/cancel/delete requests into state changes the runner honours at
frame boundaries. All methods except `start`/`stop` are synchronous and must be
called on the event-loop thread; they never block on the rail or the camera.
"""

from __future__ import annotations

import asyncio
import builtins
import logging
import shutil
import time
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from raild.camera.protocol import Camera
from raild.config import Config
from raild.events import EventBus
from raild.logs import log_event
from raild.stacks.errors import InvalidPlan, StackConflict, StackNotFound, StorageFull
from raild.stacks.estimate import capture_time_ms, position_times_s, return_time_s, stack_time_s
from raild.stacks.family import ArchiveEntry, archive_layout, descendants, family_frames, frame_document
from raild.stacks.geometry import RailGeometry
from raild.stacks.ids import new_stack_id
from raild.stacks.journal import Journal
from raild.stacks.model import ACTIVE_STATES, EXTEND_ENDS, RESUMABLE_STATES, Stack, iso_utc
from raild.stacks.plan import Plan, build_plan
from raild.stacks.presets import PresetStore
from raild.stacks.rail_port import StackRail
from raild.stacks.request import StackRequest, absolute_body, parse_request
from raild.stacks.runner import RunnerTiming, StackRunner
from raild.stacks.series import Series, SeriesScheduler
from raild.stacks.store import StackStore

log = logging.getLogger("raild.stacks")
SETTINGS_TIMEOUT_S = 5.0
INTERRUPTED = {
    "code": "interrupted",
    "message": "the daemon stopped while this stack was running; home the rail, then resume",
}


class StackManager:
    def __init__(
        self,
        config: Config,
        state_dir: Path,
        rail: StackRail,
        camera: Camera,
        events: EventBus,
        *,
        retry_backoff_ms: int = 500,
    ) -> None:
        self.config = config
        self.rail = rail
        self.camera = camera
        self.events = events
        self.geometry = RailGeometry.from_config(
            config.rail,
            um_to_steps=rail.um_to_steps,
            steps_to_um=rail.steps_to_um,
        )
        self.store = StackStore(state_dir)
        self.journal = Journal(self.store, events)
        self.presets = PresetStore(state_dir)
        self.series = SeriesScheduler(state_dir, events, self._start_run)
        self.retry_backoff_s = retry_backoff_ms / 1000.0
        self._stacks: dict[str, Stack] = {}
        self._current: Stack | None = None  # what `job_summary` shows
        self._runner: StackRunner | None = None
        self._task: asyncio.Task[None] | None = None
        self._removals: set[asyncio.Future[None]] = set()

    # -- lifecycle -----------------------------------------------------------------
    async def start(self) -> None:
        """Load every stack; one left running by a crash becomes `interrupted`."""
        await asyncio.to_thread(self.store.purge)
        await self.presets.load()
        for stack in await asyncio.to_thread(self.store.load_all):
            self._stacks[stack.id] = stack
            # Time left, from the plan's estimate, until the stack runs and measures it.
            stack.eta_s = stack.estimate_s * (1 - stack.frame / stack.total_frames)
            if stack.state in ACTIVE_STATES:  # a crash left it claiming to run
                stack.state, stack.error = "interrupted", dict(INTERRUPTED)
                log_event(
                    log,
                    "stack interrupted",
                    logging.WARNING,
                    stack=stack.id,
                    frame=stack.frame,
                    frames=stack.total_frames,
                )
                try:
                    await self.journal.save(stack)
                except OSError as exc:
                    log_event(log, "manifest not written", logging.ERROR, stack=stack.id, error=str(exc))
        for stack in sorted(self._stacks.values(), key=lambda s: s.id):
            parent = self._stacks.get(stack.parent_id) if stack.parent_id else None
            if parent is not None and parent is not stack:
                parent.children.append(stack.id)
        resumable = [s for s in self._stacks.values() if s.state in ("interrupted", "paused")]
        self._current = max(resumable, key=lambda s: s.id) if resumable else None
        for stack in self._stacks.values():
            self._watch_series(stack)
        await self.series.load(self._stacks.values())
        if self._current is None:  # a time-lapse waiting for its next run is worth showing
            waiting = [s for s in self._stacks.values() if self._series_active(s)]
            self._current = max(waiting, key=lambda s: s.id) if waiting else None

    async def stop(self) -> None:
        """Daemon shutdown: the running stack (if any) is left `interrupted`, all saved."""
        await self.series.stop()
        task = self._task
        if task is not None and not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        await self.journal.drain()
        if self._removals:
            await asyncio.gather(*self._removals, return_exceptions=True)

    # -- queries -------------------------------------------------------------------
    def list(self) -> list[Stack]:
        """Newest first."""
        return sorted(self._stacks.values(), key=lambda s: s.id, reverse=True)

    def get(self, stack_id: str) -> Stack:
        self.store.stack_dir(stack_id)  # 404 for a malformed id
        stack = self._stacks.get(stack_id)
        if stack is None:
            raise StackNotFound(f"no stack {stack_id}")
        return stack

    def frames(self, stack_id: str) -> builtins.list[dict[str, Any]]:  # `list` is a method here
        return self.get(stack_id).frame_list()

    def family_frames(self, stack_id: str) -> builtins.list[dict[str, Any]]:
        """The frames of the stack and its extensions, numbered as one sequence in focus order."""
        stack = self.get(stack_id)
        return [frame_document(f) for f in family_frames(descendants(stack, self._stacks))]

    def archive_layout(
        self, stack_id: str, *, children: bool = False
    ) -> tuple[builtins.list[ArchiveEntry], bytes | None]:
        """What `GET stacks/{id}/archive` holds (see `family.archive_layout`); read on the
        loop thread, where the runner changes the records."""
        stack = self.get(stack_id)
        members = descendants(stack, self._stacks) if children else [stack]
        return archive_layout(members, self.store.stack_dir, children=children)

    def job_summary(self) -> dict[str, Any] | None:
        """`{id, state, frame, frames, eta_s}` of the current stack; cheap, for polling."""
        stack = self._current
        return None if stack is None else stack.summary()

    def status(self) -> dict[str, Any]:
        return {"job": self.job_summary(), "stacks": len(self._stacks)}

    def active_stack_id(self) -> str | None:
        """The stack that is driving the rail now (queued to cancelling), if any."""
        runner = self._runner
        if runner is None or runner.stack.state not in ACTIVE_STATES:
            return None
        return runner.stack.id

    def stack_dir(self, stack_id: str) -> Path:
        """The stack's folder, inside the stacks folder by construction (validated id)."""
        self.get(stack_id)
        return self.store.stack_dir(stack_id)

    def frame_path(self, stack_id: str, index: int) -> Path:
        """The file of captured frame `index` (1-based); 404 when there is none here."""
        stack = self.get(stack_id)
        if isinstance(index, bool) or not isinstance(index, int):
            raise StackNotFound(f"frame index must be a whole number, got {index!r}")
        record = stack.frames.get(index)
        if record is None:
            raise StackNotFound(f"stack {stack_id} has no captured frame {index}")
        if record.file is None:
            raise StackNotFound(f"frame {index} was not downloaded; it is on the camera's card")
        folder = self.store.stack_dir(stack_id)
        path = folder / record.file
        if path.parent != folder or record.file.startswith("."):
            raise StackNotFound(f"frame {index} has no file in the stack folder")
        return path

    # -- commands ------------------------------------------------------------------
    def extendable(self, stack_id: str, end: str) -> Stack:
        """The stack, if an extension of it at `end` may start: 404 when there is none, 409
        while it still drives the rail (its end is not where it will be), and 409 when that
        end is already continued, so a family never shoots one position twice."""
        stack = self.get(stack_id)
        if stack.state in ACTIVE_STATES:
            raise StackConflict(f"stack {stack_id} is {stack.state}; extend it once it has stopped")
        if stack.parent_id in self._stacks and end != stack.parent_end:
            raise StackConflict(f"the {end} end of stack {stack_id} joins the stack it extends, {stack.parent_id}")
        for child_id in stack.children:
            child = self._stacks.get(child_id)
            if child is not None and child.parent_end == end and child.frame > 0:
                raise StackConflict(
                    f"stack {stack_id} is already continued at its {end} end by stack {child_id}; extend that one"
                )
        return stack

    def create(self, request: Mapping[str, Any] | StackRequest, *, extends: tuple[str, str] | None = None) -> Stack:
        """Plan and start a stack: 422 for a bad plan, 409 when busy or the rail is not ready.
        `extends` = (parent id, "near" | "far") records the stack it continues."""
        if extends is not None:
            if extends[1] not in EXTEND_ENDS:
                raise InvalidPlan([{"field": "end", "message": f"must be 'near' or 'far', not {extends[1]!r}"}])
            self.extendable(*extends)
        self._require_idle()
        if isinstance(request, StackRequest):
            typed = request
            request = absolute_body(typed)
            if typed.repeat is not None:
                request["repeat"] = typed.repeat.to_dict()
        req = self._parse(self.presets.apply(request))
        plan = build_plan(req, self._geometry_now())
        self._require_rail_ready("start a stack")
        series = None
        if req.repeat is not None:
            body = absolute_body(req)
            series = self.series.create(new_stack_id(), req.repeat.count, req.repeat.interval_s, body)
        try:
            return self._start(req, plan, series, 1, extends)
        except BaseException:
            if series is not None:
                self.series.abandon(series.id)  # no run 1: no series to resume after a restart
            raise

    def _parse(self, body: Mapping[str, Any]) -> StackRequest:
        return parse_request(
            body,
            default_settle_ms=self.config.camera.settle_ms,
            default_shot_interval_ms=self.config.camera.shot_interval_ms,
            here_um=self._rail_position_um(),
        )

    def _start_run(self, series: Series, run: int) -> Stack:
        """Run `run` of a time-lapse, now (the series scheduler calls this when it is due)."""
        self._require_idle()
        req = self._parse(series.body)
        plan = build_plan(req, self._geometry_now())
        self._require_rail_ready(f"start run {run} of the time-lapse")
        return self._start(req, plan, series, run)

    def _start(
        self, req: StackRequest, plan: Plan, series: Series | None, run: int, extends: tuple[str, str] | None = None
    ) -> Stack:
        now = time.time()
        from_um = self._rail_position_um()
        stack = Stack(
            id=new_stack_id(now),
            name=req.name,
            created_at=iso_utc(now),
            plan=plan,
            camera=dict(self.camera.status()),
            estimate_s=stack_time_s(plan, self.geometry, capture_time_ms(self.config), from_um),
            series=None if series is None else {"id": series.id, "run": run, "of": series.count},
            parent_id=None if extends is None else extends[0],
            parent_end=None if extends is None else extends[1],
        )
        self._watch_series(stack)
        stack.eta_s = stack.estimate_s
        try:
            self.store.create(stack)
        except OSError as exc:
            raise StorageFull(f"cannot create the stack's folder: {exc.strerror or exc}") from exc
        self._stacks[stack.id] = stack
        parent = self._stacks.get(stack.parent_id) if stack.parent_id else None
        if parent is not None:
            parent.children.append(stack.id)
        self._current = stack
        if series is not None:
            self.series.run_started(series, run, now)
        log_event(log, "stack created", stack=stack.id, frames=plan.frames, step_um=round(plan.step_um, 3))
        self.events.publish("job:state", {**stack.summary(), "error": None})
        self._launch(stack)
        return stack

    def pause(self, stack_id: str) -> Stack:
        stack = self.get(stack_id)
        if stack.state in ("pausing", "paused"):
            return stack
        if stack.state not in ("queued", "running") or self._runner is None:
            raise StackConflict(f"stack {stack_id} is {stack.state}; only a running stack can pause")
        self.journal.state(stack, "pausing")
        self._runner.ask("pause")
        return stack

    def resume(self, stack_id: str) -> Stack:
        stack = self.get(stack_id)
        if stack.state in ("queued", "running"):
            return stack
        if stack.state == "pausing" and self._runner is not None:
            self._runner.ask(None)  # the pause has not happened yet: just keep going
            self.journal.state(stack, "running")
            return stack
        if stack.state not in RESUMABLE_STATES:
            raise StackConflict(f"stack {stack_id} is {stack.state} and cannot be resumed")
        self._require_same_scale(stack)
        self._require_idle()
        if stack.state == "interrupted" and self.config.has_home_switch and not self.rail.homed:
            raise StackConflict(
                f"stack {stack_id} was interrupted, so the rail must be homed again before it "
                "resumes (POST /api/v1/motion/home)"
            )
        self._require_rail_ready("resume")
        self._current = stack
        self.series.run_resumed(stack)
        self.journal.state(stack, "running")  # the reply already shows the resumed state
        self._launch(stack)
        return stack

    def cancel(self, stack_id: str) -> Stack:
        stack = self.get(stack_id)
        series = self.series.get(stack.series["id"]) if stack.series else None
        if series is not None and series.state == "active":
            # Cancelling any run's stack cancels the rest of the time-lapse, even between
            # runs (the last run's stack is then completed and stays so).
            self.series.cancel(series.id)
            if stack.state == "completed":
                self.events.publish("job:state", {**stack.summary(), "error": stack.error})
                return stack
        if stack.state in ("cancelling", "cancelled"):
            return stack
        if stack.state in ("queued", "running", "pausing") and self._runner is not None:
            self.journal.state(stack, "cancelling")
            self._runner.ask("cancel")
            return stack
        if stack.state in RESUMABLE_STATES:
            if stack.plan.return_to_start and self._can_return(stack):
                # Back to the start first; the runner ends it `cancelled`.
                self.journal.state(stack, "cancelling")
                self._current = stack
                self._launch(stack, request="cancel")
            else:
                self.journal.state(stack, "cancelled")
            return stack
        raise StackConflict(f"stack {stack_id} is {stack.state} and cannot be cancelled")

    def _can_return(self, stack: Stack) -> bool:
        """A stopped stack's rail can drive back now (nothing latched, nothing else runs)."""
        if self.rail is None or (self._task is not None and not self._task.done()):
            return False
        try:
            self._require_rail_ready("return")
            self._require_same_scale(stack)
        except StackConflict:
            return False
        return True

    def cancel_active(self) -> Stack | None:
        """Cancel whatever stack is running."""
        runner = self._runner
        if runner is None or runner.stack.state not in ACTIVE_STATES:
            return None
        return self.cancel(runner.stack.id)

    def pause_active(self) -> Stack | None:
        """Pause whatever stack is running (not one that is already being cancelled)."""
        runner = self._runner
        if runner is None or runner.stack.state not in ("queued", "running", "pausing"):
            return None
        return self.pause(runner.stack.id)

    async def stop_rail(self) -> Stack | None:
        """`POST motion/stop`: the running stack is paused, not ended, then the rail stops.
        The pause is asked first, so the move the stop interrupts reads as the pause; a
        stack being cancelled just stops where it is (the stop wins over the return)."""
        stack = self.pause_active()
        await self.rail.stop()
        return stack

    def delete(self, stack_id: str) -> None:
        stack = self.get(stack_id)
        if stack.state in ACTIVE_STATES or (self._runner is not None and self._runner.stack is stack):
            raise StackConflict(f"stack {stack_id} is {stack.state}; cancel it before deleting")
        try:
            trash = self.store.detach(stack_id)
        except OSError as exc:
            raise StorageFull(f"cannot delete stack {stack_id}: {exc.strerror or exc}") from exc
        # Thousands of frames take a while to unlink on an SD card: not on the event loop.
        removal = asyncio.get_running_loop().run_in_executor(None, shutil.rmtree, trash, True)
        self._removals.add(removal)
        removal.add_done_callback(self._removals.discard)
        del self._stacks[stack_id]
        parent = self._stacks.get(stack.parent_id) if stack.parent_id else None
        if parent is not None and stack_id in parent.children:
            parent.children.remove(stack_id)
        if self._current is stack:
            self._current = None
        log_event(log, "stack deleted", stack=stack_id)

    # -- internals -------------------------------------------------------------------
    def _require_idle(self) -> None:
        if self._task is not None and not self._task.done() and self._runner is not None:
            running = self._runner.stack
            raise StackConflict(f"stack {running.id} is {running.state}; only one stack runs at a time")

    def _require_same_scale(self, stack: Stack) -> None:
        """Positions are kept in steps; a changed lead or microstepping would move them."""
        plan = stack.plan
        far_um = self.geometry.steps_to_um(plan.positions_steps[-1])
        if abs(far_um - plan.positions_um[-1]) > self.geometry.um_per_step / 2:
            raise StackConflict(
                f"the rail's steps per mm changed since stack {stack.id} was planned, so its "
                "positions would be wrong; start a new stack over the same range"
            )

    def _require_rail_ready(self, what: str) -> None:
        rail = self.rail
        state = rail.state
        if state != "idle":
            raise StackConflict(f"cannot {what}: the rail is {state}; wait, or reset it")
        if self.config.has_home_switch and not rail.homed:
            raise StackConflict(f"cannot {what}: must home first (POST /api/v1/motion/home)")
        if not rail.position_known:
            raise StackConflict(f"cannot {what}: the rail position is unknown; zero or home it")

    def _geometry_now(self) -> RailGeometry:
        """The geometry with the rail's own limits (they keep clear of fitted switches)."""
        limits = self.rail.status().get("limits")
        if not limits:
            return self.geometry
        return replace(self.geometry, soft_min_um=float(limits["min_um"]), soft_max_um=float(limits["max_um"]))

    def _rail_position_um(self) -> float:
        return self.geometry.steps_to_um(self.rail.position_steps)

    def _series_active(self, stack: Stack) -> bool:
        series = self.series.get(stack.series["id"]) if stack.series else None
        return series is not None and series.state == "active"

    def _watch_series(self, stack: Stack) -> None:
        if stack.series is not None:
            series_id = stack.series["id"]
            stack.series_view = lambda: self.series.view(series_id)

    def _launch(self, stack: Stack, request: str | None = None) -> None:
        plan = stack.plan
        times = position_times_s(plan, self.geometry, capture_time_ms(self.config))
        timing = RunnerTiming(
            retries=self.config.camera.retries,
            retry_backoff_s=self.retry_backoff_s,
            capture_timeout_s=self.config.camera.capture_timeout_s,
            planned_frame_s=sum(times) / plan.frames,
            return_s=return_time_s(plan, self.geometry),
        )
        runner = StackRunner(
            stack,
            self.rail,
            self.camera,
            self.journal,
            lambda index: self.store.frame_dest(stack.id, index),
            timing,
        )
        runner.request = request
        self._runner = runner
        self._task = asyncio.get_running_loop().create_task(self._drive(runner), name=f"stack-{stack.id}")

    async def _drive(self, runner: StackRunner) -> None:
        stack = runner.stack
        try:
            await self._note_camera_settings(stack)
            await runner.run()
            if self._runner is runner:
                self._runner = None  # the next run of a time-lapse may start at once
            self.series.run_ended(stack)
        except asyncio.CancelledError:
            self.journal.state(stack, "interrupted", dict(INTERRUPTED))
            raise
        except Exception as exc:  # a bug must not leave a stack that claims to run
            log.exception("stack runner crashed")
            self.journal.state(stack, "failed", {"code": "internal", "message": f"internal error: {exc}"})
        finally:
            if self._runner is runner:
                self._runner = None

    async def _note_camera_settings(self, stack: Stack) -> None:
        """Record the exposure settings in the manifest once, for the photographer's notes."""
        if "settings" in stack.camera or not self.camera.capabilities.settings:
            return
        try:
            settings = await asyncio.wait_for(self.camera.get_settings(), SETTINGS_TIMEOUT_S)
        except Exception as exc:  # settings are a courtesy, never a blocker
            log_event(log, "camera settings not recorded", logging.INFO, error=str(exc))
            return
        stack.camera["settings"] = {name: s.value for name, s in settings.items()}
