"""Backlash compensation: the legs of a move so its final approach is from one side.

Pure. Lead screws and nuts have play; a position is repeatable only when it is
always reached moving the same way. A move that would arrive against the
configured `approach` direction first overshoots by the backlash, then comes
back; the overshoot stays inside the allowed range (it is shortened at a limit).
"""

from __future__ import annotations


def approach_legs(
    current_steps: int,
    target_steps: int,
    approach_dir: int,
    backlash_steps: int,
    min_steps: int | None = None,
    max_steps: int | None = None,
) -> list[int]:
    """Absolute targets to move through in order, ending at `target_steps`."""
    if target_steps == current_steps:
        return []
    travel_dir = 1 if target_steps > current_steps else -1
    if travel_dir == approach_dir or backlash_steps <= 0:
        return [target_steps]
    overshoot = target_steps - approach_dir * backlash_steps
    if min_steps is not None:
        overshoot = max(overshoot, min_steps)
    if max_steps is not None:
        overshoot = min(overshoot, max_steps)
    if overshoot == target_steps:
        return [target_steps]
    return [overshoot, target_steps]
