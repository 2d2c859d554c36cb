"""A host that freezes at the worst moments of a streamed move (simulated, forced with the
drive's test hooks): the position is exact, or unknown with the reason said, never wrong."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from raild.drives.pigpio.drive import PigpioDrive
from raild.motion.errors import EstopLatched, MoveInterrupted

from .motion_bench import Bench, close_bench, make_config, open_bench

ZERO_STEPS = 6_400  # the virtual carriage starts at 2 000 µm, where these tests zero the rail


async def _switchless() -> Bench:
    b = await open_bench(make_config(homing={"switch": "none"}, sim={"start_position_um": 2_000.0}))
    b.rail.zero()
    return b


def _pigpio(b: Bench) -> PigpioDrive:
    drive = b.rail.drive
    assert isinstance(drive, PigpioDrive)
    return drive


class _Freeze:
    """A drive hook that freezes the host (a blocking sleep on the event loop's thread) for
    `seconds`, `times` times, once more than `after_segments` segments went out and, when
    given, while `still` holds."""

    def __init__(
        self,
        drive: PigpioDrive,
        after_segments: int,
        seconds: float,
        times: int = 1,
        still: Callable[[], bool] | None = None,
    ) -> None:
        self.drive, self.after_segments, self.seconds = drive, after_segments, seconds
        self.left, self.still = times, still

    def __call__(self) -> None:
        if self.drive.segments_sent > self.after_segments and self.left and (self.still is None or self.still()):
            self.left -= 1
            time.sleep(self.seconds)


async def test_a_cruise_segment_sent_after_the_stream_ran_dry_gives_the_position_up() -> None:
    """The host freezes between its check of the queue and the send, so a segment at cruise
    speed starts from rest (a real motor stalls): the motion stops at once and the position
    is unknown with the reason said; it never claims the steps it sent."""
    b = await _switchless()
    rail, drive = b.rail, _pigpio(b)
    try:
        freeze = _Freeze(drive, after_segments=6, seconds=0.2)  # longer than the queue holds: it runs dry
        drive.checked_send_hook = freeze
        with pytest.raises(MoveInterrupted, match="may have stalled"):
            await rail.move_to_um(8_000.0, approach=False)
        assert freeze.left == 0
        assert drive.late_stalls == 1 and drive.late_starts >= 1
        status = rail.status()
        assert not status["position_known"] and status["position_steps"] is None and status["state"] == "idle"
    finally:
        drive.checked_send_hook = None
        await close_bench(b)


async def test_an_estop_while_the_driver_is_being_enabled_stops_the_move_before_it_starts() -> None:
    b = await _switchless()
    rail, drive = b.rail, _pigpio(b)
    try:
        enable = drive.enable

        async def enable_then_estop() -> None:  # the e-stop lands while the move awaits the enable
            await enable()
            rail.estop()

        drive.enable = enable_then_estop  # type: ignore[method-assign]
        with pytest.raises(EstopLatched):
            await rail.move_to_um(4_000.0, approach=False)
        assert drive.segments_sent == 0
        assert b.rig.rail.lost_steps == 0
        assert rail.position_known and rail.position_steps == b.true_steps - ZERO_STEPS
    finally:
        await close_bench(b)


async def test_a_halt_between_runs_ends_the_move_with_the_runs_done_exact() -> None:
    """An underrun ends a run; an e-stop landing before the next run starts must end the
    move there, not start a new run into a disabled driver."""
    b = await _switchless()
    rail, drive = b.rail, _pigpio(b)
    try:
        stall = _Freeze(drive, after_segments=6, seconds=0.15)  # an underrun: the run ends exactly
        note_underrun = drive._note_underrun

        def underrun_then_estop(steps: int) -> None:
            note_underrun(steps)
            rail.estop()

        drive.send_delay_hook = stall
        drive._note_underrun = underrun_then_estop  # type: ignore[method-assign]
        with pytest.raises(MoveInterrupted, match="estop"):
            await rail.move_to_um(8_000.0, approach=False)
        assert drive.underruns >= 1
        assert b.rig.rail.lost_steps == 0
        assert rail.state == "estop"
        assert rail.position_known and rail.position_steps == b.true_steps - ZERO_STEPS
        assert 0 < rail.position_steps < rail.um_to_steps(8_000.0)
    finally:
        drive.send_delay_hook = None
        await close_bench(b)


async def test_homing_starts_over_when_the_host_fell_behind_during_the_seek() -> None:
    b = await open_bench(make_config())
    rail, drive = b.rail, _pigpio(b)
    try:
        # Until one segment too fast to start from rest went out late: a busy host may have
        # restarted the seek from rest (an underrun), so an early freeze can hit a slow one.
        freeze = _Freeze(drive, after_segments=4, seconds=0.2, times=5, still=lambda: drive.late_stalls == 0)
        drive.checked_send_hook = freeze
        status = await rail.home()
        assert drive.late_stalls == 1
        assert status["homed"] and status["position_known"]
        # whatever the stalled seek lost, homing found the true position again
        assert rail.position_steps == b.true_steps
    finally:
        drive.checked_send_hook = None
        await close_bench(b)


async def test_a_host_that_freezes_after_a_send_in_time_keeps_the_move_exact() -> None:
    """The freeze comes after pigpiod took the segment while a queued wave still played: the
    send was in time, so nothing is given up however late the host's next look is."""
    b = await _switchless()
    rail, drive = b.rail, _pigpio(b)
    try:
        freeze = _Freeze(drive, after_segments=6, seconds=0.2)  # past the end of all queued before this send
        drive.sent_hook = freeze
        await rail.move_to_um(8_000.0, approach=False)
        assert freeze.left == 0
        assert drive.late_stalls == 0
        assert b.rig.rail.lost_steps == 0
        assert rail.position_known and rail.position_steps == b.true_steps - ZERO_STEPS
    finally:
        drive.sent_hook = None
        await close_bench(b)
