"""Stack time-lapse: the same stack K times, run k starting T s after run k−1 started
(at once when run k−1 took longer). Each run is its own stack carrying
`series: {id, run, of}`.

The series advances only when a run *completes*. A run that is paused, failed or
interrupted holds the series until it is resumed and completes; cancelling any run's
stack cancels the rest. The series file (`<state_dir>/series/<id>.json`, replaced
atomically) keeps the body, the count, the interval and when each run started; the
stacks on disk say how far it got. So after a crash or restart the series resumes: the
interrupted run is resumed by the user as any stack, and a series that was waiting for
its next run starts it once the rail is ready again (at once when its time passed
while the daemon was down; missed runs are not made up, later runs keep the interval).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from raild.atomic import leftover_parts, write_atomic
from raild.events import EventBus
from raild.logs import log_event
from raild.stacks.errors import StackConflict, StackError, StorageFull
from raild.stacks.ids import is_stack_id
from raild.stacks.model import Stack, iso_utc

log = logging.getLogger("raild.stacks.series")
SERIES_DIR = "series"
VERSION = 1
RETRY_S = 1.0  # a due run that cannot start yet (rail busy, must home) is retried this often
SERIES_STATES = ("active", "completed", "cancelled", "failed")


@dataclass
class Series:
    id: str
    created_at: str
    count: int
    interval_s: float
    body: dict[str, Any]  # an absolute stack body (no preset, no repeat)
    state: str = "active"
    started_s: list[float] = field(default_factory=list)  # wall-clock start of each run
    error: dict[str, str] | None = None
    # Not persisted: what the scheduler is doing now.
    next_at_s: float | None = None
    waiting: str | None = None  # why a due run has not started yet

    def to_file(self) -> dict[str, Any]:
        return {
            "version": VERSION,
            "id": self.id,
            "created_at": self.created_at,
            "count": self.count,
            "interval_s": self.interval_s,
            "body": self.body,
            "state": self.state,
            "started_s": self.started_s,
            "error": self.error,
        }

    @classmethod
    def from_file(cls, data: dict[str, Any]) -> Series:
        series = cls(
            id=str(data["id"]),
            created_at=str(data["created_at"]),
            count=int(data["count"]),
            interval_s=float(data["interval_s"]),
            body=dict(data["body"]),
            state=str(data["state"]),
            started_s=[float(s) for s in data.get("started_s", [])],
            error=data.get("error"),
        )
        if series.state not in SERIES_STATES or not is_stack_id(series.id):
            raise ValueError(f"bad series record {series.id!r}")
        return series

    def view(self, now_s: float | None = None) -> dict[str, Any]:
        """Live state for a run's stack document and the `job` events."""
        now_s = time.time() if now_s is None else now_s
        return {
            "id": self.id,
            "of": self.count,
            "runs_started": len(self.started_s),
            "interval_s": self.interval_s,
            "state": self.state,
            "next_run_at": None if self.next_at_s is None else iso_utc(self.next_at_s),
            "next_in_s": None if self.next_at_s is None else round(max(0.0, self.next_at_s - now_s), 1),
            "waiting": self.waiting,
            "error": self.error,
        }


# Starts run k of a series now, returning its stack; raises `StackConflict` when the rail
# or another stack is in the way (retried), any other `StackError` when it cannot ever.
StartRun = Callable[[Series, int], Stack]


class SeriesScheduler:
    def __init__(
        self, state_dir: Path, events: EventBus, start_run: StartRun, clock: Callable[[], float] = time.time
    ) -> None:
        self.root = Path(state_dir) / SERIES_DIR
        self.events = events
        self.start_run = start_run
        self.clock = clock
        self._series: dict[str, Series] = {}
        self._timers: dict[str, asyncio.Task[None]] = {}
        self._writes: set[asyncio.Task[None]] = set()
        self._write_lock = asyncio.Lock()  # snapshots land in the order they were taken

    # -- lifecycle -----------------------------------------------------------------
    async def load(self, stacks: Iterable[Stack]) -> None:
        """Read every series and pick each active one up where its stacks left it."""
        self._series = await asyncio.to_thread(self._read_all)
        runs: dict[str, Stack] = {}
        for stack in stacks:
            ref = stack.series
            if ref and ref["id"] in self._series:
                best = runs.get(ref["id"])
                if best is None or ref["run"] > best.series["run"]:  # type: ignore[index]
                    runs[ref["id"]] = stack
        for series in self._series.values():
            if series.state != "active":
                continue
            last = runs.get(series.id)
            if last is None:
                self._schedule(series, self.clock())  # cut short before run 1 began
            else:
                self.run_ended(last)

    async def stop(self) -> None:
        for task in self._timers.values():
            task.cancel()
        await asyncio.gather(*self._timers.values(), return_exceptions=True)
        self._timers.clear()
        while self._writes:
            await asyncio.gather(*list(self._writes), return_exceptions=True)

    # -- queries -------------------------------------------------------------------
    def get(self, series_id: str) -> Series | None:
        return self._series.get(series_id)

    def view(self, series_id: str) -> dict[str, Any] | None:
        series = self._series.get(series_id)
        return None if series is None else series.view(self.clock())

    # -- commands ------------------------------------------------------------------
    def create(self, series_id: str, count: int, interval_s: float, body: dict[str, Any]) -> Series:
        """A new series, written before its first run starts (`StorageFull` if it cannot be)."""
        series = Series(series_id, iso_utc(self.clock()), count, interval_s, body)
        try:
            self._write(series)  # synchronous: the caller's create must fail as a whole
        except OSError as exc:
            raise StorageFull(f"cannot save the series: {exc.strerror or exc}") from exc
        self._series[series.id] = series
        log_event(log, "series created", series=series.id, runs=count, interval_s=interval_s)
        return series

    def abandon(self, series_id: str) -> None:
        """Forget a series whose first run could not be created (its file goes too)."""
        self._series.pop(series_id, None)
        with contextlib.suppress(OSError, ValueError):
            self._path(series_id).unlink()

    def run_started(self, series: Series, run: int, started_s: float) -> None:
        del series.started_s[run - 1 :]
        series.started_s.append(started_s)
        series.next_at_s = None
        series.waiting = None
        self._save_soon(series)

    def run_ended(self, stack: Stack) -> None:
        """A run's stack reached a state at rest: schedule the next, finish or stop the series."""
        ref = stack.series
        series = None if ref is None else self._series.get(ref["id"])
        if series is None or series.state != "active" or ref is None:
            return
        run = int(ref["run"])
        if stack.state == "cancelled":
            self.cancel(series.id)
        elif stack.state == "completed":
            if run >= series.count:
                self._finish(series, "completed")
            else:
                started = series.started_s[run - 1] if len(series.started_s) >= run else self.clock()
                self._schedule(series, started + series.interval_s)
        else:  # paused, failed, interrupted: held until that run is resumed or cancelled
            series.waiting = f"run {run} is {stack.state}; resume it to go on, or cancel it to end the series"
            self._publish(series)

    def run_resumed(self, stack: Stack) -> None:
        series = self._series.get(stack.series["id"]) if stack.series else None
        if series is not None and series.state == "active":
            series.waiting = None

    def cancel(self, series_id: str) -> None:
        series = self._series.get(series_id)
        if series is not None and series.state == "active":
            self._finish(series, "cancelled")

    # -- internals -------------------------------------------------------------------
    def _finish(self, series: Series, state: str, error: dict[str, str] | None = None) -> None:
        timer = self._timers.pop(series.id, None)
        if timer is not None and timer is not asyncio.current_task():
            timer.cancel()
        series.state, series.error = state, error
        series.next_at_s = None
        series.waiting = None
        log_event(log, "series ended", series=series.id, state=state, runs=len(series.started_s))
        self._publish(series)
        self._save_soon(series)

    def _schedule(self, series: Series, due_s: float) -> None:
        series.next_at_s = max(due_s, self.clock())
        old = self._timers.pop(series.id, None)
        if old is not None:
            old.cancel()
        self._timers[series.id] = asyncio.get_running_loop().create_task(
            self._wait_and_start(series), name=f"series-{series.id}"
        )
        self._publish(series)

    async def _wait_and_start(self, series: Series) -> None:
        run = len(series.started_s) + 1
        while series.state == "active":
            assert series.next_at_s is not None
            delay_s = series.next_at_s - self.clock()
            if delay_s > 0:
                await asyncio.sleep(delay_s)
                continue
            try:
                self.start_run(series, run)
            except StackConflict as exc:
                if series.waiting != exc.message:
                    series.waiting = exc.message
                    self._publish(series)
                await asyncio.sleep(RETRY_S)
                continue
            except StackError as exc:  # the plan no longer fits the rail, or the disk is full
                self._finish(series, "failed", {"code": "run_not_started", "message": f"run {run}: {exc.message}"})
            break
        if self._timers.get(series.id) is asyncio.current_task():
            del self._timers[series.id]

    def _publish(self, series: Series) -> None:
        self.events.publish("job:series", {"series": series.view(self.clock())})

    def _path(self, series_id: str) -> Path:
        if not is_stack_id(series_id):
            raise ValueError(f"{series_id!r} is not a series id")
        return self.root / f"{series_id}.json"

    def _write(self, series: Series) -> None:
        data = json.dumps(series.to_file(), indent=1, ensure_ascii=False).encode()
        write_atomic(self._path(series.id), data)

    def _save_soon(self, series: Series) -> None:
        snapshot = Series.from_file(json.loads(json.dumps(series.to_file())))
        task = asyncio.get_running_loop().create_task(self._save(snapshot))
        self._writes.add(task)
        task.add_done_callback(self._writes.discard)

    async def _save(self, series: Series) -> None:
        try:
            async with self._write_lock:
                await asyncio.to_thread(self._write, series)
        except OSError as exc:
            log_event(log, "series not written", logging.ERROR, series=series.id, error=str(exc))

    def _read_all(self) -> dict[str, Series]:
        found: dict[str, Series] = {}
        if not self.root.is_dir():
            return found
        for part in leftover_parts(self.root):
            with contextlib.suppress(OSError):
                part.unlink()
        for path in sorted(self.root.glob("*.json")):
            try:
                series = Series.from_file(json.loads(path.read_bytes()))
                if path.stem != series.id:
                    raise ValueError("series id does not match its file")
            except (OSError, ValueError, KeyError, TypeError) as exc:
                log_event(log, "series not loaded", logging.WARNING, file=str(path), error=str(exc))
                continue
            found[series.id] = series
        return found
