"""`FocusService`: analyses each frame as it lands, off the capture path.

It listens for `job:frame` events (published once a frame's file is on disk) and hands
each frame to one worker thread; the capture loop never waits on it. Jobs beyond
`MAX_PENDING` are not queued but picked up later: every coverage or preview request
first queues whatever frames of that stack were not analysed yet (after a restart,
after a burst, for a stack shot before this layer existed). Results are cached on disk
in the stack's `focus/` folder (`sharpness.npz`, `preview.jpg`, `depthmap.png`) when a
stack stops running, so a finished stack is not decoded again.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import threading
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from raild.atomic import write_atomic
from raild.events import EventBus, Subscription
from raild.focus.coverage import Coverage, analyse_coverage
from raild.focus.errors import FocusError
from raild.focus.fusion import Fusion
from raild.focus.measure import UnreadableFrame, block_mean, decode_frame, laplacian_energy, tile_px_for
from raild.focus.meter import SharpnessMeter
from raild.focus.scan import FocusScanner
from raild.logs import log_event

log = logging.getLogger("raild.focus")
MAX_PENDING = 64  # frames queued for the worker; more are analysed on the next request
KEEP_STACKS = 3  # stacks whose analysis stays in memory (about 10 MB each at 1024 px)
FOCUS_DIR = "focus"
FINAL_STATES = frozenset({"completed", "cancelled", "failed", "paused", "interrupted"})


@dataclass(frozen=True)
class LandedFrame:
    index: int
    position_um: float
    path: Path | None  # None when the camera kept the file


@dataclass(frozen=True)
class StackFrames:
    """What the focus layer needs to know of a stack: handed over by the API from the stack layer."""

    stack_id: str
    folder: Path
    running: bool  # may still gain frames (running, paused, interrupted): coverage stays partial
    frames: list[LandedFrame]


@dataclass
class _StackFocus:
    folder: Path
    lock: threading.Lock = field(default_factory=threading.Lock)
    tiles: dict[int, tuple[float, np.ndarray]] = field(default_factory=dict)
    unreadable: set[int] = field(default_factory=set)
    fusion: Fusion | None = field(default_factory=Fusion)
    cached_preview: bytes | None = None
    cached_depth: bytes | None = None
    pending: dict[int, asyncio.Future[None]] = field(default_factory=dict)
    dirty: bool = False

    def done(self) -> set[int]:
        with self.lock:  # the worker adds to both
            return set(self.tiles) | self.unreadable


class NotEnoughFrames(FocusError):
    status = 409
    code = "not_enough_frames"


class FocusService:
    def __init__(self, state_dir: Path, events: EventBus) -> None:
        self.stacks_root = Path(state_dir) / "stacks"
        self.events = events
        self._states: OrderedDict[str, _StackFocus] = OrderedDict()
        self._pool: ThreadPoolExecutor | None = None
        self._task: asyncio.Task[None] | None = None
        self._pending = 0
        self.skipped = 0  # frames not queued because the worker lagged (analysed later)
        self.analysed = 0
        self.scanner = FocusScanner()
        self.meter = SharpnessMeter()

    async def start(self) -> None:
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="focus")
        self._task = asyncio.create_task(self._listen(self.events.subscribe(1024)), name="focus-listener")

    async def stop(self) -> None:
        await self.scanner.stop()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        pool, self._pool = self._pool, None
        if pool is not None:
            # Queued frames are dropped (re-analysed on demand); the one in hand finishes off the loop.
            await asyncio.to_thread(pool.shutdown, True, cancel_futures=True)
        self._task = None

    def status(self) -> dict[str, object]:
        return {"pending": self._pending, "analysed": self.analysed, "skipped": self.skipped}

    # -- as frames land ------------------------------------------------------------
    async def _listen(self, sub: Subscription) -> None:
        with sub:
            async for event in sub:
                data = event.data
                try:
                    if event.kind == "job:frame" and data.get("name"):
                        sid = str(data["id"])
                        folder = self.stacks_root / sid
                        frame = LandedFrame(int(data["index"]), float(data["position_um"]), folder / str(data["name"]))
                        self._submit(sid, folder, frame, lag_ok=False)
                    elif event.kind == "job:state" and data.get("state") in FINAL_STATES:
                        self._flush_soon(str(data["id"]))
                except (KeyError, TypeError, ValueError) as exc:
                    log_event(log, "focus event ignored", logging.WARNING, kind=event.kind, error=str(exc))

    def _state(self, sid: str, folder: Path) -> _StackFocus:
        state = self._states.get(sid)
        if state is None:
            state = self._states[sid] = _StackFocus(folder)
        self._states.move_to_end(sid)
        while len(self._states) > KEEP_STACKS:
            old_id, old = next(iter(self._states.items()))
            if old.pending:
                break
            del self._states[old_id]
        return state

    def _submit(self, sid: str, folder: Path, frame: LandedFrame, *, lag_ok: bool) -> asyncio.Future[None] | None:
        state = self._state(sid, folder)
        if state.fusion is None and frame.index not in state.done():
            # Read back from the cache, and now the stack has a new frame (resumed): the
            # fusion needs every frame again, which the next request's catch-up queues.
            state = self._states[sid] = _StackFocus(folder)
        if frame.index in state.pending or frame.index in state.done() or frame.path is None or self._pool is None:
            return state.pending.get(frame.index)
        if self._pending >= MAX_PENDING and not lag_ok:
            self.skipped += 1  # picked up by the next catch-up; the capture never waits
            return None
        self._pending += 1
        future = asyncio.get_running_loop().run_in_executor(self._pool, self._analyse, state, frame)
        state.pending[frame.index] = future

        def done(f: asyncio.Future[None], index: int = frame.index) -> None:
            self._pending -= 1
            state.pending.pop(index, None)
            if not f.cancelled() and f.exception() is not None:
                log_event(log, "frame not analysed", logging.WARNING, stack=sid, frame=index, error=str(f.exception()))

        future.add_done_callback(done)
        return future

    def _analyse(self, state: _StackFocus, frame: LandedFrame) -> None:
        """Worker thread: decode at reduced size, tile sharpness, fuse."""
        assert frame.path is not None
        try:
            image = decode_frame(frame.path)
        except (UnreadableFrame, FileNotFoundError):
            with state.lock:
                state.unreadable.add(frame.index)
            return
        energy = laplacian_energy(image.gray)  # computed once for the tiles and the fusion
        tiles = block_mean(energy, tile_px_for(energy.shape))
        with state.lock:
            state.tiles[frame.index] = (frame.position_um, tiles)
            if state.fusion is not None:
                state.fusion.add(image, frame.position_um, energy)
            state.dirty = True
        self.analysed += 1

    def _flush_soon(self, sid: str) -> None:
        state = self._states.get(sid)
        if state is None or self._pool is None:
            return
        # Queued behind the stack's frames, so it saves their results too.
        asyncio.get_running_loop().run_in_executor(self._pool, self._save, state)

    def _save(self, state: _StackFocus) -> None:
        with state.lock:
            if not state.dirty or state.fusion is None or state.fusion.frames == 0:
                return
            indices = sorted(state.tiles)
            positions = np.array([state.tiles[i][0] for i in indices])
            grid = np.stack([state.tiles[i][1] for i in indices])
            preview, depth = state.fusion.preview_jpeg(), state.fusion.depth_png()
            state.dirty = False
        buf = io.BytesIO()
        np.savez(buf, indices=np.array(indices), positions_um=positions, tiles=grid)
        folder = state.folder / FOCUS_DIR
        try:
            write_atomic(folder / "sharpness.npz", buf.getvalue())
            write_atomic(folder / "preview.jpg", preview)
            write_atomic(folder / "depthmap.png", depth)
        except OSError as exc:  # a full disk costs the cache, not the stack
            log_event(log, "focus cache not written", logging.WARNING, folder=str(folder), error=str(exc))

    # -- requests ----------------------------------------------------------------------
    async def _catch_up(self, view: StackFrames, wait_s: float) -> _StackFocus:
        state = self._states.get(view.stack_id)
        if state is None and not view.running:
            state = await asyncio.to_thread(self._load, view)
            if state is not None:
                self._states[view.stack_id] = state
        state = self._state(view.stack_id, view.folder)
        wanted = {f.index for f in view.frames if f.path is not None}
        if state.fusion is None and not wanted <= state.done():
            # Loaded from the cache, but frames were added since: the fusion needs every frame again.
            state = self._states[view.stack_id] = _StackFocus(view.folder)
        futures = [self._submit(view.stack_id, view.folder, f, lag_ok=True) for f in view.frames]
        waiting = [f for f in futures if f is not None]
        if waiting and wait_s > 0:
            await asyncio.wait(waiting, timeout=wait_s)
        return state

    def _load(self, view: StackFrames) -> _StackFocus | None:
        folder = view.folder / FOCUS_DIR
        try:
            with np.load(folder / "sharpness.npz") as data:
                indices, positions, grid = data["indices"], data["positions_um"], data["tiles"]
            preview = (folder / "preview.jpg").read_bytes()
            depth = (folder / "depthmap.png").read_bytes()
        except (OSError, KeyError, ValueError):
            return None
        state = _StackFocus(view.folder, fusion=None, cached_preview=preview, cached_depth=depth)
        for i, index in enumerate(indices.tolist()):
            state.tiles[int(index)] = (float(positions[i]), grid[i])
        return state

    async def coverage(self, view: StackFrames, wait_s: float = 0.0) -> Coverage:
        state = await self._catch_up(view, wait_s)
        wanted = [f.index for f in view.frames if f.path is not None]
        with state.lock:
            rows = [(i, *state.tiles[i]) for i in sorted(wanted) if i in state.tiles]
        caught_up = set(wanted) <= state.done()
        finished = not view.running and caught_up
        if not rows:
            if finished and view.frames:
                why = "frames could not be decoded (raw files?)" if wanted else "frames stayed on the camera's card"
                return Coverage(state="final", frames_analyzed=0, detail=f"no depth information: {why}")
            return Coverage(state="pending", frames_analyzed=0, detail="no frame analysed yet")
        label = "final" if finished else "partial"
        positions = [r[1] for r in rows]
        table = np.stack([r[2].ravel() for r in rows])
        return await asyncio.to_thread(analyse_coverage, positions, table, state=label)

    async def preview(self, view: StackFrames, wait_s: float = 10.0) -> bytes:
        return await self._image(view, wait_s, depth=False)

    async def depthmap(self, view: StackFrames, wait_s: float = 10.0) -> bytes:
        return await self._image(view, wait_s, depth=True)

    async def _image(self, view: StackFrames, wait_s: float, *, depth: bool) -> bytes:
        if sum(1 for f in view.frames if f.path is not None) < 2:
            raise NotEnoughFrames(f"stack {view.stack_id} has fewer than 2 frames on disk; nothing to fuse yet")
        state = await self._catch_up(view, wait_s)
        if state.fusion is None:
            cached = state.cached_depth if depth else state.cached_preview
            if cached is not None:
                return cached
        fusion = state.fusion
        if fusion is None or fusion.frames == 0:
            raise NotEnoughFrames(f"stack {view.stack_id}: no frame analysed yet (frames may be raw files); retry")

        def render() -> bytes:
            with state.lock:
                return fusion.depth_png() if depth else fusion.preview_jpeg()

        return await asyncio.to_thread(render)
