"""`GrblDrive`: the Drive seam on a grbl 1.1 / grblHAL board over USB serial.

The board times the steps; raild plans in steps and talks in mm. Lines are
streamed with grbl's character counting (at most 128 unacknowledged bytes);
`?` is polled at `[grbl] status_hz` while anything moves (2 Hz when idle, to
notice a dead link). Moves are `G53 G1` to an absolute machine target, so
grbl's parser state (G91, G92, work offsets) cannot shift them; jogs are
`$J=G53 ...`.

Exact positions. grbl lands a completed move exactly on lround(target × steps/mm),
but it reports MPos with 3 decimals (1 µm). With fewer than 1000 steps/mm the
report rounds to the exact step; with more, a reported position is only good to
±0.0005 mm. So after a stop (feed hold or jog cancel) the drive finishes with a
tiny move of a few steps, further in the direction of travel, to a target it
chose: the carriage then stands on a known step and the result is exact.

Stops. A move stops with `!` (feed hold, decelerating at $120); once grbl
reports Hold:0 a soft reset flushes the planner without an alarm (grbl only
alarms on a reset while steps are still running) and keeps the position. A jog
stops with 0x85 (jog cancel). An e-stop (`halt_now`) is a soft reset at once:
grbl alarms (ALARM:3) and keeps counting the steps it emitted, so the drive
still reads the position, but the motor may have slipped in the abrupt stop:
the result is flagged not exact when the report cannot resolve a step, and the
board stays locked until raild's reset (`unlock`, i.e. `$X`) or homing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from typing import Literal

from raild.config import Config
from raild.drives.grbl import messages as m
from raild.drives.grbl.codes import (
    AXES,
    POSITION_LOST_ALARMS,
    RT_HOLD,
    RT_JOG_CANCEL,
    RT_RESET,
    RT_STATUS,
    RX_BUFFER_BYTES,
    alarm_text,
    error_text,
)
from raild.drives.grbl.link import LinkError, SerialLink
from raild.drives.grbl.settings import compare
from raild.drives.protocol import DriveFault, MoveResult, Progress, Reason, Side

log = logging.getLogger("raild.drives.grbl")
IDLE_POLL_S = 0.5
REPORT_DECIMALS_MM = 0.0005  # MPos is printed with 3 decimals
LINK_TIMEOUT_S = 3.0  # no status report for this long while moving: the link is dead
RECONNECT_FIRST_S = 0.5  # a lost link is retried after this, then twice as long each time...
RECONNECT_MAX_S = 5.0  # ...up to this: a replugged board is back within a few seconds
REASK_S = 0.25  # ask again when a report is this late


class GrblCommandError(DriveFault):
    def __init__(self, line: str, code: int) -> None:
        super().__init__(f"grbl refused {line!r}: error:{code} ({error_text(code)})")
        self.code = code


class GrblSettingsFault(DriveFault):
    def __init__(self, lines: list[str]) -> None:
        super().__init__(
            "the grbl board's settings do not match raild's config:\n  "
            + "\n  ".join(lines)
            + "\nrun `raild check --fix-grbl` to write them once, or change the config"
        )
        self.lines = lines


class _Reset(Exception):
    """grbl reset (banner seen) while a line was waiting for its answer."""


def lround(x: float) -> int:
    return math.floor(abs(x) + 0.5) * (1 if x >= 0 else -1)


class GrblDrive:
    name = "grbl"

    def __init__(self, config: Config, port: str | None = None) -> None:
        self._cfg = config
        self.url = port or config.grbl.port
        self.axis_i = AXES.index(config.grbl.axis)
        self.spm = config.rail.steps_per_mm
        self.report_exact = REPORT_DECIMALS_MM * self.spm < 0.5
        self.motor_enabled = False
        self._link: SerialLink | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pending: deque[tuple[int, str, asyncio.Future[m.Message]]] = deque()
        self._room = asyncio.Event()
        self._banner = asyncio.Event()
        self._report = asyncio.Event()
        self._poll_wake = asyncio.Event()  # a move or jog began: leave the idle poll period now
        self._report_seq = 0
        self.last_status: m.Status | None = None
        self.settings: dict[int, float] = {}
        self.version = ""
        self.locked = False  # grbl is in its alarm lock (needs $H or raild's reset)
        self.critical = False  # [MSG:Reset to continue]
        self.alarm: int | None = None
        self.messages: deque[str] = deque(maxlen=20)
        self.garbage: deque[str] = deque(maxlen=5)
        self.garbage_lines = 0
        self.link_state: Literal["closed", "connecting", "ready", "lost", "fault"] = "closed"
        self.fault: str | None = None
        self.position_steps: int | None = None  # grbl machine position in steps, exact when position_exact
        self.position_exact = False
        self._busy: Literal["", "move", "jog", "home"] = ""
        self._stop_requested = False
        self._line_sent = False
        self._halt: Reason | None = None
        self._halt_disable = False
        self._sleeping = False
        self._poll_task: asyncio.Task[None] | None = None
        self._side_tasks: set[asyncio.Task[None]] = set()
        self._switch_cbs: list[Callable[[Side, bool], None]] = []
        self._lost_cbs: list[Callable[[str], None]] = []
        self._restored_cbs: list[Callable[[], None]] = []
        self._reconnect_task: asyncio.Task[None] | None = None
        self._connect_lock = asyncio.Lock()
        self._closed = False  # close() was called: a lost link is not reopened
        self._reset_expected = False  # a soft reset raild sent: its banner is not the board's own reset
        self._limit_pressed = False
        self.stats = {"reports": 0, "lines": 0, "resets": 0}

    # ----- link plumbing (loop thread) -----
    def _post(self, fn: Callable[..., None], *args: object) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(fn, *args)

    def _on_line(self, line: str) -> None:
        msg = m.parse_line(line)
        if isinstance(msg, m.Ok | m.Error):
            if self._pending:
                _, _, fut = self._pending.popleft()
                if not fut.done():
                    fut.set_result(msg)
                self._room.set()
            return
        if isinstance(msg, m.Status):
            self._on_status(msg)
        elif isinstance(msg, m.Alarm):
            self.alarm = msg.code
            self.locked = True
            if msg.code in POSITION_LOST_ALARMS:
                self.position_exact = False
            log.warning("grbl ALARM:%d (%s)", msg.code, alarm_text(msg.code))
            self._fail_pending(DriveFault(f"ALARM:{msg.code} ({alarm_text(msg.code)})"))
            self._report.set()
        elif isinstance(msg, m.Banner):
            if self.link_state == "ready" and not self._reset_expected:
                # A reset nobody asked for (a board reset, a power dip): grbl's position and
                # settings may be gone. Treated as a lost link: reopened and checked again.
                self._link_gone(f"the board reset by itself ({msg.version or 'grbl'} banner)")
                return
            self._reset_expected = False
            self.version = msg.version
            self.critical = False
            self._fail_pending(_Reset())
            self._banner.set()
            self._report.set()
        elif isinstance(msg, m.Msg):
            self.messages.append(msg.text)
            if "to unlock" in msg.text:
                self.locked = True
            elif msg.text == "Reset to continue":
                self.critical = True
            elif msg.text.startswith("Caution: Unlocked"):
                self.locked = False
        elif isinstance(msg, m.Setting):
            self.settings[msg.number] = msg.value
        elif isinstance(msg, m.Feedback):
            self.messages.append(msg.text)
        else:
            self._on_garbage_text(line)

    def _on_garbage_text(self, text: str) -> None:
        self.garbage_lines += 1
        self.garbage.append(text[:64])
        log.warning("grbl link: not a grbl line: %r", text[:64])

    def _on_garbage(self, raw: bytes) -> None:
        self._on_garbage_text(raw.decode("ascii", "backslashreplace"))

    def _on_closed(self, reason: str) -> None:
        self._link_gone(reason)

    def _link_gone(self, reason: str) -> None:
        was_ready = self.link_state == "ready"
        text = f"grbl link lost: {reason}"
        if self.link_state in ("ready", "connecting"):
            self.link_state = "lost"
            self.fault = text
            log.error("%s", text)
        if was_ready:  # while connecting, the failure goes to whoever is connecting
            for cb in list(self._lost_cbs):
                try:
                    cb(text)
                except Exception:  # a listener's bug must not stop the link
                    log.exception("grbl lost listener failed")
        self.position_exact = False
        self._fail_pending(LinkError(reason))
        self._report.set()
        self._banner.set()
        if was_ready:  # a link lost while connecting is the connecting caller's failure
            self._start_reconnect()

    # ----- reconnecting by itself (docs/internals.md "grbl drive") -----
    def _start_reconnect(self) -> None:
        if self._closed or (self._reconnect_task is not None and not self._reconnect_task.done()):
            return
        self._reconnect_task = asyncio.get_running_loop().create_task(self._reconnect(), name="grbl-reconnect")

    async def _reconnect(self) -> None:
        """Reopen the port with backoff until grbl answers and its `$$` match again."""
        lost = self.fault or "grbl link lost"
        delay_s = RECONNECT_FIRST_S
        attempts = 0
        while not self._closed:
            await asyncio.sleep(delay_s)
            if self.link_state == "ready":  # someone else (raild's reset) reconnected first
                return
            attempts += 1
            try:
                await self.connect(check_settings=True)
            except GrblSettingsFault as exc:  # another board, or its settings changed: not ours to fix
                log.error("grbl link back on %s but its settings do not match; reset after fixing: %s", self.url, exc)
                return
            except DriveFault as exc:
                self.link_state = "lost"
                self.fault = f"{lost}; reconnecting (attempt {attempts}: {exc})"
                delay_s = min(delay_s * 2, RECONNECT_MAX_S)
                continue
            log.warning("grbl link restored on %s after %d attempt(s)", self.url, attempts)
            for cb in list(self._restored_cbs):
                try:
                    cb()
                except Exception:  # a listener's bug must not stop the link
                    log.exception("grbl restored listener failed")
            return

    def on_restored(self, listener: Callable[[], None]) -> None:
        """`listener()` when the drive has reopened a lost link by itself (settings checked)."""
        self._restored_cbs.append(listener)

    @property
    def reconnecting(self) -> bool:
        return self._reconnect_task is not None and not self._reconnect_task.done()

    def _fail_pending(self, exc: Exception) -> None:
        while self._pending:
            _, _, fut = self._pending.popleft()
            if not fut.done():
                fut.set_exception(exc)
        self._room.set()

    def _on_status(self, st: m.Status) -> None:
        self.last_status = st
        self._report_seq += 1
        self.stats["reports"] += 1
        if st.mpos is not None and len(st.mpos) > self.axis_i:
            est = lround(st.mpos[self.axis_i] * self.spm)
            if not (self.position_exact and self._busy == "" and st.state == "Idle"):
                if self.position_steps is None or abs(est - self.position_steps) > self._slack():
                    self.position_steps = est
                    self.position_exact = self.position_exact and self.report_exact
        if st.state in ("Idle", "Run", "Jog", "Hold"):  # grbl is not in an alarm, whatever we thought
            self.locked = False
            self.alarm = None
        self._sleeping = st.state == "Sleep"
        pressed = self.config_axis_letter in st.pins
        if pressed != self._limit_pressed:
            self._limit_pressed = pressed
            side = self._side_now()
            for cb in list(self._switch_cbs):
                try:
                    cb(side, pressed)
                except Exception:  # a listener's bug must not stop the link
                    log.exception("grbl switch listener failed")
        self._report.set()

    @property
    def config_axis_letter(self) -> str:
        return AXES[self.axis_i]

    def _slack(self) -> int:
        return 0 if self.report_exact else math.ceil(REPORT_DECIMALS_MM * self.spm)

    def _reported_steps(self) -> int | None:
        st = self.last_status
        if st is None or st.mpos is None or len(st.mpos) <= self.axis_i:
            return None
        return lround(st.mpos[self.axis_i] * self.spm)

    def _side_now(self) -> Side:
        # grbl has one limit input per axis (both switches share it): tell them by position.
        travel_mm = self._cfg.rail.travel_mm
        st = self.last_status
        mpos = st.mpos[self.axis_i] if st and st.mpos and len(st.mpos) > self.axis_i else 0.0
        return "min" if mpos < -travel_mm / 2 else "max"

    # ----- writing -----
    def _rt(self, byte: bytes) -> None:
        link = self._link
        if link is None:
            return
        if byte == RT_RESET:
            self._reset_expected = True
        try:
            link.write(byte)
        except LinkError as exc:
            log.warning("grbl real-time byte %r not sent: %s", byte, exc)

    async def _send(self, line: str, timeout_s: float = 10.0) -> m.Message:
        """Character counting: wait for room in grbl's 128-byte buffer, send, await ok/error."""
        link = self._require_link()
        data = (line + "\n").encode("ascii")
        while sum(n for n, _, _ in self._pending) + len(data) > RX_BUFFER_BYTES:
            self._room.clear()
            await asyncio.wait_for(self._room.wait(), timeout_s)
        assert self._loop is not None
        fut: asyncio.Future[m.Message] = self._loop.create_future()
        self._pending.append((len(data), line, fut))
        try:
            link.write(data)
        except LinkError as exc:
            raise DriveFault(str(exc)) from None
        self.stats["lines"] += 1
        try:
            return await asyncio.wait_for(fut, timeout_s)
        except TimeoutError:
            raise DriveFault(f"grbl did not answer {line!r} within {timeout_s:g} s") from None
        except (_Reset, LinkError, DriveFault) as exc:
            raise DriveFault(f"{line!r} was not executed: {exc or 'grbl reset'}") from None

    async def _send_together(self, lines: tuple[str, ...], timeout_s: float) -> list[m.Message]:
        """Like _send for several lines, written at once; the first failure is raised."""
        link = self._require_link()
        data = [(line + "\n").encode("ascii") for line in lines]
        while sum(n for n, _, _ in self._pending) + sum(map(len, data)) > RX_BUFFER_BYTES:
            self._room.clear()
            await asyncio.wait_for(self._room.wait(), timeout_s)
        assert self._loop is not None
        futs: list[asyncio.Future[m.Message]] = []
        for line, raw in zip(lines, data, strict=True):
            futs.append(fut := self._loop.create_future())
            self._pending.append((len(raw), line, fut))
        try:
            link.write(b"".join(data))
        except LinkError as exc:
            raise DriveFault(str(exc)) from None
        self.stats["lines"] += len(lines)
        try:
            answers = await asyncio.wait_for(asyncio.gather(*futs, return_exceptions=True), timeout_s)
        except TimeoutError:
            raise DriveFault(f"grbl did not answer {' '.join(lines)!r} within {timeout_s:g} s") from None
        out: list[m.Message] = []
        for line, ans in zip(lines, answers, strict=True):
            if isinstance(ans, BaseException):
                raise DriveFault(f"{line!r} was not executed: {ans or 'grbl reset'}") from None
            out.append(ans)
        return out

    async def _command(self, line: str, timeout_s: float = 10.0) -> None:
        ans = await self._send(line, timeout_s)
        if isinstance(ans, m.Error):
            raise GrblCommandError(line, ans.code)

    def _require_link(self) -> SerialLink:
        if self._link is None or self.link_state not in ("ready", "connecting"):
            raise DriveFault(self.fault or "the grbl board is not connected")
        return self._link

    async def _next_report(self, timeout_s: float, ask: bool = True) -> m.Status:
        """The next status report. ask=False leaves the asking to the poller (status_hz)."""
        seq = self._report_seq
        deadline = time.monotonic() + timeout_s
        if ask:
            self._rt(RT_STATUS)
        while self._report_seq == seq:
            if self.link_state not in ("ready", "connecting"):
                raise DriveFault(self.fault or "grbl link lost")
            if self.critical:  # grbl answers nothing but a reset now
                raise DriveFault(f"grbl is in {self._alarm_text()} and needs a reset")
            self._report.clear()
            left = deadline - time.monotonic()
            if left <= 0:
                raise DriveFault(f"no status report from grbl within {timeout_s:g} s")
            try:
                await asyncio.wait_for(self._report.wait(), min(left, REASK_S))
            except TimeoutError:
                self._rt(RT_STATUS)  # grbl drops a '?' that comes before the last one was answered
        assert self.last_status is not None
        return self.last_status

    async def _reset_and_wait(self) -> None:
        self._banner.clear()
        self.stats["resets"] += 1
        self._rt(RT_RESET)
        try:
            await asyncio.wait_for(self._banner.wait(), self._cfg.grbl.connect_timeout_s)
        except TimeoutError:
            raise DriveFault("grbl did not come back from a soft reset (no banner)") from None
        if self.link_state not in ("ready", "connecting"):
            raise DriveFault(self.fault or "grbl link lost")
        # The [MSG:] lines after the banner arrive before the answer to anything sent next.

    # ----- life cycle -----
    async def start(self) -> None:
        """Open the port, soft-reset, wait for the banner, read and check `$$`."""
        self._closed = False
        await self.connect(check_settings=True)

    async def connect(self, check_settings: bool = True) -> None:
        # One connection attempt at a time: raild's reset and the reconnecting task may meet.
        async with self._connect_lock:
            await self._connect(check_settings)

    async def _open_link(self, link: SerialLink) -> None:
        """link.open() on a thread; if the caller is cancelled meanwhile, what opens is closed."""
        opening = asyncio.ensure_future(asyncio.to_thread(link.open))
        try:
            await asyncio.shield(opening)
        except asyncio.CancelledError:

            def close_late(f: asyncio.Future[None]) -> None:
                if not f.cancelled() and f.exception() is None:
                    threading.Thread(target=link.close, name="grbl-link-close", daemon=True).start()

            opening.add_done_callback(close_late)
            raise

    async def _connect(self, check_settings: bool) -> None:
        if self._link is not None:
            await self._drop_link()
        self._loop = asyncio.get_running_loop()
        self.link_state = "connecting"
        self.fault = None
        self.garbage.clear()
        self.settings = {}
        self.position_exact = False
        self.position_steps = None
        link = SerialLink(
            self.url,
            self._cfg.grbl.baud,
            on_line=lambda line: self._post(self._on_line, line),
            on_garbage=lambda raw: self._post(self._on_garbage, raw),
            on_closed=lambda reason: self._post(self._on_closed, reason),
        )
        try:
            await self._open_link(link)
        except LinkError as exc:
            self._set_fault(str(exc))
            raise DriveFault(str(exc)) from None
        self._link = link
        try:
            await self._reset_and_wait()
        except DriveFault:
            seen = "; ".join(repr(g) for g in self.garbage) or "nothing"
            await self._fail_start(
                f"no grbl banner from {self.url} after a soft reset (got: {seen}); is it a grbl board?"
            )
        if self.link_state != "connecting":
            await self._fail_start(self.fault or "grbl link lost while connecting")
        try:
            await self._command("$$")
            st = await self._next_report(2.0)
        except DriveFault as exc:
            await self._fail_start(f"grbl answered the banner but not `$$`/`?`: {exc}")
        mismatches = compare(self.settings, self._cfg, self.config_axis_letter)
        if check_settings and mismatches:
            await self._drop_link()
            fault = GrblSettingsFault([x.line() for x in mismatches])
            self._set_fault(str(fault))
            raise fault
        self.locked = self.locked or st.state == "Alarm"
        self.motor_enabled = st.state != "Sleep"
        self.link_state = "ready"
        self._poll_task = asyncio.create_task(self._poll())
        log.info("grbl %s on %s: %s, MPos steps %s", self.version, self.url, st.state, self.position_steps)

    def _set_fault(self, text: str) -> None:
        self.link_state = "fault"
        self.fault = text

    async def _fail_start(self, text: str) -> None:
        await self._drop_link()
        self._set_fault(text)
        raise DriveFault(text)

    async def _drop_link(self) -> None:
        task, self._poll_task = self._poll_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        link, self._link = self._link, None
        if link is not None:
            await asyncio.to_thread(link.close)
        self._fail_pending(LinkError("closed"))

    async def close(self) -> None:
        """Halt anything running and let go of the port."""
        self._closed = True
        task, self._reconnect_task = self._reconnect_task, None
        if task is not None and task is not asyncio.current_task():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._busy and self._link is not None:
            self._rt(RT_RESET)
        await self._drop_link()
        self.link_state = "closed"
        self.motor_enabled = False

    async def _poll(self) -> None:
        while True:
            period = 1.0 / self._cfg.grbl.status_hz if self._busy else IDLE_POLL_S
            try:
                # Woken when an operation begins: otherwise a move started during the idle
                # period would see no report (and not its end) until that period ran out.
                await asyncio.wait_for(self._poll_wake.wait(), period)
                self._poll_wake.clear()
                continue  # sleep again, at the busy rate
            except TimeoutError:
                pass
            if self.link_state == "ready" and self._busy != "home":
                self._rt(RT_STATUS)

    # ----- the seam -----
    def _check_can_move(self) -> None:
        self._require_link()
        if self._busy:
            raise DriveFault(f"the grbl drive is busy ({self._busy})")
        if self.critical or self.locked:
            why = f"ALARM:{self.alarm} ({alarm_text(self.alarm)})" if self.alarm else "its alarm lock"
            raise DriveFault(f"grbl is in {why}; home, or reset raild's e-stop to unlock")
        if self._sleeping:
            raise DriveFault("the grbl board's motors are disabled; enable them first")

    async def _start_position(self) -> tuple[int, bool]:
        st = await self._next_report(2.0)
        if st.state != "Idle":
            raise DriveFault(f"grbl is {st.state}, not Idle")
        assert self.position_steps is not None
        return self.position_steps, self.position_exact

    def _feed(self, speed_steps_s: float) -> float:
        max_mm_min = self.settings.get(110 + self.axis_i, math.inf)
        return min(speed_steps_s / self.spm * 60.0, max_mm_min)

    def _mm(self, steps: int) -> str:
        return f"{steps / self.spm:.6f}".rstrip("0").rstrip(".")

    async def move(
        self,
        delta_steps: int,
        speed_steps_s: float,
        accel_steps_s2: float,
        start_speed_steps_s: float,
        progress: Progress,
        home_side: Side | None = None,
    ) -> MoveResult:
        """Move by delta_steps; grbl accelerates at its own $120 (checked equal to raild's at
        connect) and starts from rest (it has no start speed). grbl homes by itself (`home()`),
        so a move that ends on a home switch is not something this drive offers."""
        if home_side is not None:
            raise DriveFault("the grbl board homes by itself ($H); a switch-seeking move is not supported")
        self._check_can_move()
        with self._operation("move"):
            start, exact = await self._start_position()
            target = start + delta_steps
            if delta_steps == 0:
                return MoveResult(0, None, exact)
            feed = self._feed(speed_steps_s)
            line = f"G53G1X{self._mm(target)}F{feed:.3f}"
            return await self._run("move", line, start, exact, target, feed, progress)

    async def jog(
        self,
        direction: int,
        speed_steps_s: float,
        accel_steps_s2: float,
        start_speed_steps_s: float,
        limit_steps: int | None,
        progress: Progress,
    ) -> MoveResult:
        """Jog until request_stop() or limit_steps from here (None: the rest of the travel)."""
        self._check_can_move()
        with self._operation("jog"):
            start, exact = await self._start_position()
            d = 1 if direction > 0 else -1
            travel = lround(self.settings.get(130 + self.axis_i, self._cfg.rail.travel_mm) * self.spm)
            reach = travel if limit_steps is None else max(0, limit_steps)
            target = start + d * reach
            if self.settings.get(20):  # grbl refuses jogs beyond its soft limits: stop at them
                target = max(-travel, min(0, target))
            if target == start:
                return MoveResult(0, None, exact)
            feed = self._feed(speed_steps_s)
            line = f"$J=G53X{self._mm(target)}F{feed:.3f}"
            return await self._run("jog", line, start, exact, target, feed, progress)

    @contextlib.contextmanager
    def _operation(self, kind: Literal["move", "jog"]) -> Iterator[None]:
        self._busy = kind
        self._poll_wake.set()
        self._line_sent = False
        self._stop_requested = False
        self._halt = None
        try:
            yield
        finally:
            self._busy = ""
            self._line_sent = False
            self._stop_requested = False

    async def _run(
        self,
        kind: Literal["move", "jog"],
        line: str,
        start: int,
        exact: bool,
        target: int,
        feed: float,
        progress: Callable[[int], None],
    ) -> MoveResult:
        if self._stop_requested or self._halt is not None:
            return MoveResult(0, self._halt or "stop", exact)  # stopped before it began
        self._line_sent = True
        try:
            ans = await self._send(line)
        except DriveFault:
            if self._halt is not None:  # the reset swallowed the line
                return await self._after_halt(start)
            raise
        if isinstance(ans, m.Error):
            raise GrblCommandError(line, ans.code)
        timeout = max(LINK_TIMEOUT_S, 3.0 / self._cfg.grbl.status_hz)
        first = True
        while True:
            try:
                st = await self._next_report(timeout, ask=first)
                first = False
            except DriveFault:
                if self._halt is not None:
                    return self._halted(start)
                if self.critical:
                    return await self._after_limit(start)
                last = self._reported_steps()
                return MoveResult((last if last is not None else start) - start, "lost", False)
            here = self._reported_steps()
            if here is not None:
                progress(here - start)
            if self._halt is not None:
                return await self._after_halt(start)
            if self.critical:  # the report in hand may predate the alarm
                return await self._after_limit(start)
            if st.state == "Alarm":
                self.position_exact = False
                reason: Reason = "limit" if self.alarm == 1 else "estop"
                moved = (here if here is not None else start) - start
                return MoveResult(moved, reason, self.report_exact)
            if self._stop_requested:
                return await self._finish_stop(kind, start, exact, target, feed, progress)
            if st.state == "Idle":
                self.position_steps, self.position_exact = target, exact
                return MoveResult(target - start, None, exact)

    async def _finish_stop(
        self, kind: str, start: int, exact: bool, target: int, feed: float, progress: Callable[[int], None]
    ) -> MoveResult:
        """After `!` or 0x85: wait for rest, flush grbl's queue, stand on a known step."""
        while True:
            st = await self._next_report(LINK_TIMEOUT_S, ask=False)
            if st.state == "Idle" or (st.state == "Hold" and st.sub == 0):
                break
            if st.state == "Alarm" or self._halt is not None:
                return await self._after_halt(start) if self._halt else MoveResult(0, "estop", False)
            # A real-time byte that overtook its line found grbl idle and did nothing: again.
            if st.state == "Jog":
                self._rt(RT_JOG_CANCEL)
            elif st.state == "Run":
                self._rt(RT_HOLD)
        here = self._reported_steps()
        assert here is not None
        completed = st.state == "Idle"
        if st.state == "Hold":
            await self._reset_and_wait()  # Hold:0 + reset: queue flushed, no alarm, position kept
            st = await self._next_report(2.0)
            if st.state == "Alarm":
                self.position_exact = False
                return MoveResult(here - start, "stop", False)
        # Idle: grbl finished the block, so it stands on the target. In a hold a report equal
        # to the target may still be a step or two short when the report cannot resolve a step
        # (the hold can end inside the final deceleration, within 1 µm of the target).
        if here == target and exact and (completed or self.report_exact):
            self.position_steps, self.position_exact = target, True
            return MoveResult(target - start, None, True)
        if self.report_exact:
            self.position_steps, self.position_exact = here, exact
            return MoveResult(here - start, "stop", exact)
        # The report is good to ±slack steps: finish on a step we choose, ahead of the carriage.
        d = 1 if target > start else -1
        settle = here + d * (self._slack() + 1)
        if (settle - target) * d > 0:
            settle = target
        await self._command(f"G53G1X{self._mm(settle)}F{feed:.3f}")
        while (await self._next_report(LINK_TIMEOUT_S, ask=False)).state != "Idle":
            pass
        progress(settle - start)
        self.position_steps, self.position_exact = settle, exact
        return MoveResult(settle - start, "stop", exact)

    async def _after_limit(self, start: int) -> MoveResult:
        """A limit alarm: grbl halted without deceleration and waits for a reset.

        The soft reset only ends that wait (grbl stays in its alarm lock until
        raild's reset unlocks it); it lets grbl report the steps it emitted."""
        code = self.alarm
        self.position_exact = False
        await self._reset_and_wait()
        with contextlib.suppress(DriveFault):
            await self._next_report(2.0)
        self.alarm = code
        here = self._reported_steps()
        moved = (here if here is not None else start) - start
        return MoveResult(moved, "limit", self.report_exact and here is not None)

    async def _after_halt(self, start: int) -> MoveResult:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._banner.wait(), self._cfg.grbl.connect_timeout_s)
        with contextlib.suppress(DriveFault):
            await self._next_report(2.0)
        if self._halt_disable:
            try:
                await self._command("$SLP")
                self._sleeping = True
                self.motor_enabled = False
            except DriveFault as exc:
                log.error("grbl: could not disable the motor after the halt: %s", exc)
        return self._halted(start)

    def _halted(self, start: int) -> MoveResult:
        here = self._reported_steps()
        self.position_exact = False
        reason = self._halt or "estop"
        moved = (here if here is not None else start) - start
        return MoveResult(moved, reason, self.report_exact and here is not None)

    def request_stop(self) -> None:
        """Decelerated stop of the running move or jog; thread-safe."""
        busy = self._busy
        if busy == "home":  # grbl cannot hold a homing cycle: a reset aborts it (ALARM:6)
            self._halt = "stop"
            self._rt(RT_RESET)
            return
        if busy not in ("move", "jog"):
            return
        self._stop_requested = True
        if self._line_sent:  # before that, the operation sees the flag and never starts
            self._rt(RT_JOG_CANCEL if busy == "jog" else RT_HOLD)

    def halt_now(self, reason: Reason, disable: bool = False) -> None:
        """Soft reset at once (grbl stops stepping without deceleration); thread-safe."""
        self._halt = reason
        self._halt_disable = disable
        self._post(self._banner.clear)  # queued ahead of the banner the reset brings
        self._rt(RT_RESET)
        if disable and not self._busy:
            self._post(self._spawn_sleep_after_reset)

    def _spawn_sleep_after_reset(self) -> None:
        self._side_tasks.add(task := asyncio.get_running_loop().create_task(self._sleep_after_reset()))
        task.add_done_callback(self._side_tasks.discard)

    async def _sleep_after_reset(self) -> None:
        try:
            await asyncio.wait_for(self._banner.wait(), self._cfg.grbl.connect_timeout_s)
            await self._command("$SLP")
            self._sleeping = True
            self.motor_enabled = False
        except (DriveFault, TimeoutError) as exc:
            log.error("grbl: could not disable the motor after the e-stop: %s", exc)

    async def home(self) -> MoveResult:
        """grbl's `$H`. steps = where the carriage rests, from the switch's trip point.

        request_stop() or halt_now() abort the cycle (grbl has no decelerated stop
        for it): the result then has that reason, steps 0 and exact False."""
        self._require_link()
        if not self.settings.get(22):
            raise DriveFault("homing is not enabled on the grbl board ($22=0)")
        self._busy = "home"
        self._halt = None
        try:
            ans = await self._send("$H", timeout_s=self._cfg.homing.timeout_s)
        except DriveFault as exc:
            self.position_exact = False
            if self._halt is not None:  # stopped or halted on request: grbl aborted the cycle
                return MoveResult(0, self._halt, False)
            raise DriveFault(f"grbl homing failed: {self._alarm_text()} ({exc})") from None
        finally:
            self._busy = ""
        if isinstance(ans, m.Error):
            raise GrblCommandError("$H", ans.code)
        self.locked = False
        self.alarm = None
        toward_min = bool(int(self.settings.get(23, 0)) >> self.axis_i & 1)
        travel = self.settings.get(130 + self.axis_i, 0.0)
        pulloff = self.settings.get(27, 0.0)
        home_mm = -travel + pulloff if toward_min else -pulloff
        self.position_steps = lround(home_mm * self.spm)
        self.position_exact = True
        await self._next_report(2.0)
        off = lround(pulloff * self.spm)
        return MoveResult(off if toward_min else -off, None, True)

    def _alarm_text(self) -> str:
        return f"ALARM:{self.alarm} ({alarm_text(self.alarm)})" if self.alarm else "no alarm code"

    async def unlock(self) -> None:
        """`$X`: only raild's reset calls this, after the user has seen why it was locked."""
        if self.critical or self._sleeping:  # grbl answers nothing in either but a reset
            await self._reset_and_wait()
            self._sleeping = False
        try:
            await self._command("$X")
        except DriveFault:
            # A reset already under way (a stop aborting the homing cycle) can land while
            # $X waits: grbl drops the line and is back in its alarm lock. Ask once more;
            # a second failure is a real one and goes to the caller.
            await self._command("$X")
        self.locked = False
        self.alarm = None
        await self._next_report(2.0)

    async def enable(self) -> None:
        if self._sleeping or not self.motor_enabled:
            st = await self._next_report(2.0)
            if st.state == "Sleep":
                await self._reset_and_wait()  # leaves sleep in the alarm lock; the position was kept at rest
                await self._command("$X")
                self.locked = False
                await self._next_report(2.0)
        self.motor_enabled = True

    async def disable(self) -> None:
        """`$SLP`: grbl disables the drivers (the only way it offers)."""
        if self._busy:
            raise DriveFault("cannot disable the motor while it moves")
        await self._command("$SLP")
        self._sleeping = True
        self.motor_enabled = False

    async def switch_pressed(self, side: Side) -> bool:
        st = await self._next_report(2.0)
        pressed = self.config_axis_letter in st.pins
        return pressed and self._side_now() == side

    async def coolant_pulse(self, pulse_ms: int) -> None:
        """Flood coolant on for pulse_ms, then off: a wired shutter on the coolant pin.

        `M8`, `G4 P<s>`, `M9` go through grbl's planner queue like any line: grbl's
        coolant_sync waits for the motion before it to end, so the pin rises only with the
        carriage at rest, and the dwell times the press on the board (not on this host).
        Returns once grbl has answered `M9` (the pin is low again). The three lines go
        out together, so M9 reaches grbl whatever happens to the two before it."""
        if self.critical or self.locked:
            raise DriveFault(f"grbl is in {self._alarm_text()}: it takes no G-code (M8) until homed or reset")
        if self._sleeping:
            raise DriveFault("the grbl board is asleep ($SLP): enable the motor to use its coolant output")
        lines = ("M8", f"G4P{pulse_ms / 1000.0:.3f}", "M9")
        timeout_s = 30.0 + pulse_ms / 1000.0  # M8 waits for the move before it to end
        # One write (character counting: ~16 bytes): grbl has the dwell and M9 in its buffer
        # when M8 runs, so it starts the dwell with the press and M9 as the dwell ends.
        for line, ans in zip(lines, await self._send_together(lines, timeout_s), strict=True):
            if isinstance(ans, m.Error):
                raise GrblCommandError(line, ans.code)

    def on_switch(self, cb: Callable[[Side, bool], None]) -> None:
        self._switch_cbs.append(cb)

    def on_lost(self, listener: Callable[[str], None]) -> None:
        """`listener(reason)` when the serial link goes while connected (not on close())."""
        self._lost_cbs.append(listener)

    def status(self) -> dict[str, object]:
        st = self.last_status
        return {
            "backend": "grbl",
            "port": self.url,
            "link": self.link_state,
            "reconnecting": self.reconnecting,
            "fault": self.fault,
            "version": self.version,
            "state": None if st is None else (st.state + (f":{st.sub}" if st.sub is not None else "")),
            "alarm": self.alarm,
            "locked": self.locked,
            "position_steps": self.position_steps,
            "position_exact": self.position_exact,
            "report_resolves_steps": self.report_exact,
            "busy": self._busy or None,
            "garbage_lines": self.garbage_lines,
            "messages": list(self.messages)[-5:],
            **self.stats,
        }
