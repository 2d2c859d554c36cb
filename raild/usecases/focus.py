"""Focus requests that span layers: a stack's frames read by the focus service, a scan
on the rail with the camera's live view, the live sharpness, and extending a stack.

What a stack holds comes from the stack layer, what it means from `raild.focus`.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Literal

from raild.camera.liveview import liveview_for
from raild.focus.errors import ScanOutOfLimits
from raild.focus.extend import extension_body, frames_to_reach
from raild.focus.scan import NO_LIVE_VIEW, ScanRefused
from raild.focus.service import LandedFrame, StackFrames
from raild.stacks.model import ACTIVE_STATES, ENDED_STATES
from raild.usecases.motion import manual_rail

if TYPE_CHECKING:
    from raild.camera import Camera
    from raild.daemon import Daemon
    from raild.focus.coverage import Coverage
    from raild.focus.service import FocusService
    from raild.stacks import Stack, StackManager

# A stack not shooting now waits this long for frames the worker has not reached yet.
CATCH_UP_S = 10.0


def stack_frames(stacks: StackManager, stack_id: str) -> StackFrames:
    """The stack's landed frames as the focus service reads them (404 for no such stack)."""
    stack = stacks.get(stack_id)
    folder = stacks.stack_dir(stack_id)
    frames = [
        LandedFrame(item["index"], float(item["position_um"]), folder / item["name"] if item.get("name") else None)
        for item in stacks.frames(stack_id)
    ]
    # Paused or interrupted stacks may still gain frames: their coverage stays partial.
    return StackFrames(stack_id, folder, stack.state not in ENDED_STATES, frames)


def _catch_up_s(stacks: StackManager, stack_id: str) -> float:
    return 0.0 if stacks.get(stack_id).state in ACTIVE_STATES else CATCH_UP_S


async def coverage(stacks: StackManager, focus: FocusService, stack_id: str) -> Coverage:
    return await focus.coverage(stack_frames(stacks, stack_id), wait_s=_catch_up_s(stacks, stack_id))


async def preview(stacks: StackManager, focus: FocusService, stack_id: str) -> bytes:
    """All-in-focus JPEG of the frames so far (409 `not_enough_frames`)."""
    return await focus.preview(stack_frames(stacks, stack_id))


async def depthmap(stacks: StackManager, focus: FocusService, stack_id: str) -> bytes:
    """Which frame is sharpest where, as a PNG (409 `not_enough_frames`)."""
    return await focus.depthmap(stack_frames(stacks, stack_id))


def _require_live_view(camera: Camera) -> None:
    if not camera.capabilities.preview:
        raise ScanRefused(503, "no_live_view", NO_LIVE_VIEW.format(backend=camera.backend))


def start_scan(
    daemon: Daemon, camera: Camera, focus: FocusService, from_um: float, to_um: float, samples: int
) -> dict[str, Any]:
    """Sweep from_um → to_um measuring live view: the rail must be free of stacks, idle at a
    known position, and both ends inside its soft limits."""
    _require_live_view(camera)
    rail = manual_rail(daemon, "a scan needs the rail")
    if rail.state != "idle" or not rail.position_known:
        raise ScanRefused(409, "rail_busy", f"the rail is {rail.state}; it must be idle at a known position")
    min_um, max_um = rail.limits_um()
    for field, value in (("from_um", from_um), ("to_um", to_um)):
        if not min_um <= value <= max_um:
            raise ScanOutOfLimits(field, value, min_um, max_um)
    return focus.scanner.start(rail, camera, from_um, to_um, samples)


async def sharpness(daemon: Daemon, camera: Camera, focus: FocusService) -> dict[str, Any]:
    """Sharpness of the newest live-view frame (shared with the live-view stream) and where
    the rail is."""
    _require_live_view(camera)
    view = liveview_for(camera, daemon.config.camera.liveview_max_fps)
    # The newest shared frame if it is recent, else a new one within live view's frame cap.
    jpeg, taken_at = await view.frame(newer_than=time.monotonic() - view.interval_s)
    reading = await focus.meter.reading(jpeg, taken_at)
    position = daemon.rail.status().get("position_um") if daemon.rail is not None else None
    return {**reading, "position_um": position}


async def extend(
    stacks: StackManager, focus: FocusService, stack_id: str, end: Literal["near", "far"], frames: int | None
) -> Stack:
    """Start a follow-up stack continuing this one at `end` with the same step; without
    `frames`, enough to reach the coverage suggestion."""
    parent = stacks.extendable(stack_id, end)  # 404 none, 409 while it runs or that end is taken
    if frames is None:
        cov = await coverage(stacks, focus, stack_id)
        frames = frames_to_reach(parent.plan, end, cov.suggest)
    request = extension_body(parent.plan, end, frames, parent.name or parent.id)
    return stacks.create(request, extends=(parent.id, end))
