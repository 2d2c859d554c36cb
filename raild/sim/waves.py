"""Wave building and storage with pigpiod's rules and limits.

Mirrors pigpio.c: WVAG merges new pulses in time order with those already
added (so each GPIO can be added separately), WVCRE turns them into a wave id
using the DMA control-block (CB) and OOL budget the real daemon has, and a
deleted id is reused only by a wave of exactly the same size, or once every
higher id is deleted too. WVCAP (wave_create_and_pad) sizes a wave at a
percentage of the whole wave memory rather than at what its pulses need, so
every padded wave of one percentage has the same size and a deleted one is
reused by the next (pigpio.c gpioWaveCreatePad): the way to stream waves
without running out of memory. Waves are kept as pulse lists; the timeline that
plays them lives in `timeline.py`.
"""

from __future__ import annotations

from dataclasses import dataclass

from raild.sim import protocol as p

Pulse = tuple[int, int, int]  # (gpio_on_mask, gpio_off_mask, delay_us)


@dataclass
class Wave:
    pulses: list[Pulse]
    num_cb: int
    num_bool: int
    bot_cb: int
    bot_ool: int
    top_ool: int
    deleted: bool = False
    num_tool: int = 0  # pigpio's "top OOL" slots (only wave reads/ticks use them; raild's never do)

    @property
    def duration_us(self) -> int:
        return sum(d for _, _, d in self.pulses)


def _delay_cbs(delay_us: int) -> int:
    # pigpiod's default secondary DMA channel (6) is a full channel: one CB per delay.
    return 1 if delay_us else 0


def merge_pulses(new: list[Pulse], old: list[Pulse]) -> list[Pulse] | None:
    """Merge two pulse trains in time (rawWaveAddGeneric); None if too many pulses."""
    out: list[Pulse] = []
    i1 = i2 = 0
    n1, n2 = len(new), len(old)
    t_now = t_max = 0
    never = 1 << 62
    t1 = 0 if n1 else never
    t2 = 0 if n2 else never
    while (i1 < n1 or i2 < n2) and len(out) < p.WAVE_MAX_PULSES:
        t_due = min(t1, t2)
        if t_now < t_due:
            on, off, d = out[-1]
            out[-1] = (on, off, d + t_due - t_now)
            t_now = t_due
        on = off = 0
        if t1 == t_due:
            on |= new[i1][0]
            off |= new[i1][1]
            t1 = t_now + new[i1][2]
            i1 += 1
            t_max = max(t_max, t1)
        if t2 == t_due:
            on |= old[i2][0]
            off |= old[i2][1]
            t2 = t_now + old[i2][2]
            i2 += 1
            t_max = max(t_max, t2)
        if i1 >= n1:
            t1 = never
        if i2 >= n2:
            t2 = never
        t_next = min(t1, t2)
        out.append((on, off, t_next - t_now if t_next != never else 0))
        if t_next != never:
            t_now = t_next
    if out and t_now < t_max:
        on, off, d = out[-1]
        out[-1] = (on, off, d + t_max - t_now)
    # pigpio refuses a merged train that reaches the buffer size (so 11 999 fit).
    if len(out) >= p.WAVE_MAX_PULSES:
        return None
    return out


class WaveStore:
    """The pulses being built, the created waves and the wave statistics."""

    def __init__(self) -> None:
        self.pending: list[Pulse] = []
        self.waves: list[Wave] = []  # index = wave id; len() is pigpio's waveOutCount
        self._bot_cb = p.WAVE_FIRST_CB
        self._bot_ool = p.WAVE_FIRST_OOL
        self._top_ool = p.NUM_WAVE_OOL
        self.stats = {"micros": 0, "pulses": 0, "cbs": 0}
        self.high = {"micros": 0, "pulses": 0, "cbs": 0}
        self.max = {"micros": p.WAVE_MAX_MICROS, "pulses": p.WAVE_MAX_PULSES, "cbs": p.NUM_WAVE_CBS}

    def clear(self) -> None:
        """WVCLR: forget the pulses being built and every wave."""
        self.new()
        self.waves.clear()
        self._bot_cb = p.WAVE_FIRST_CB
        self._bot_ool = p.WAVE_FIRST_OOL
        self._top_ool = p.NUM_WAVE_OOL

    def new(self) -> None:
        """WVNEW: start a new wave (created waves stay)."""
        self.pending = []
        self.stats = {"micros": 0, "pulses": 0, "cbs": 0}

    def add_generic(self, pulses: list[Pulse]) -> int:
        if len(pulses) > p.WAVE_MAX_PULSES:
            return p.PI_TOO_MANY_PULSES
        merged = merge_pulses(pulses, self.pending)
        if merged is None:
            return p.PI_TOO_MANY_PULSES
        self.pending = merged
        cbs = sum(_delay_cbs(d) + (1 if (on or off) else 0) for on, off, d in merged)
        self.stats = {"micros": sum(d for _, _, d in merged), "pulses": len(merged), "cbs": cbs}
        for key, value in self.stats.items():
            self.high[key] = max(self.high[key], value)
        return len(merged)

    def _needs(self) -> tuple[int, int]:
        """(CBs, level slots) the pending pulses need (pigpio.c waveCBsOOLs)."""
        num_cb = 1  # the delay CB at the start of a wave
        num_bool = 0
        for on, off, d in self.pending:
            num_bool += (1 if on else 0) + (1 if off else 0)
            num_cb += (1 if (on or off) else 0) + _delay_cbs(d)
        return num_cb, num_bool

    def create(self) -> int:
        if not self.pending:
            return p.PI_EMPTY_WAVEFORM
        num_cb, num_bool = self._needs()
        return self._place(num_cb, num_bool, 0)

    def create_padded(self, pct_cb: int, pct_bool: int, pct_tool: int) -> int:
        """WVCAP: a wave sized at a share of the wave memory (pigpio.c gpioWaveCreatePad)."""
        for pct in (pct_cb, pct_bool, pct_tool):
            if not 0 <= pct <= 100:
                return p.PI_BAD_PARAM
        if not self.pending:
            return p.PI_EMPTY_WAVEFORM
        num_cb, num_bool = self._needs()
        pad_cb = (p.NUM_WAVE_CBS - p.WAVE_FIRST_CB) * pct_cb // 100
        pad_bool = (p.NUM_WAVE_OOL - p.WAVE_FIRST_OOL) * pct_bool // 100
        pad_tool = (p.NUM_WAVE_OOL - p.WAVE_FIRST_OOL) * pct_tool // 100
        if num_cb > pad_cb:
            return p.PI_TOO_MANY_CBS
        if num_bool > pad_bool:
            return p.PI_TOO_MANY_OOL
        return self._place(pad_cb, pad_bool, pad_tool)

    def _place(self, num_cb: int, num_bool: int, num_tool: int) -> int:
        # An exact fit with a deleted wave takes its id and memory; else the memory above the top wave.
        wid = next(
            (
                i
                for i, w in enumerate(self.waves)
                if w.deleted and w.num_cb == num_cb and w.num_bool == num_bool and w.num_tool == num_tool
            ),
            -1,
        )
        if wid >= 0:
            old = self.waves[wid]
            self.waves[wid] = Wave(
                self.pending, num_cb, num_bool, old.bot_cb, old.bot_ool, old.top_ool, False, num_tool
            )
        else:
            if num_cb + self._bot_cb > p.NUM_WAVE_CBS:
                return p.PI_TOO_MANY_CBS
            if num_bool + self._bot_ool > self._top_ool - num_tool:
                return p.PI_TOO_MANY_OOL
            if len(self.waves) >= p.MAX_WAVES:
                return p.PI_NO_WAVEFORM_ID
            wid = len(self.waves)
            self.waves.append(
                Wave(self.pending, num_cb, num_bool, self._bot_cb, self._bot_ool, self._top_ool, False, num_tool)
            )
            self._bot_cb += num_cb
            self._bot_ool += num_bool
            self._top_ool -= num_tool
        self.pending = []
        return wid

    def delete(self, wid: int) -> int:
        if wid >= len(self.waves) or self.waves[wid].deleted:
            return p.PI_BAD_WAVE_ID
        self.waves[wid].deleted = True
        if wid == len(self.waves) - 1:
            # The top wave went: give back its resources and those of any deleted waves below it.
            while wid > 0 and self.waves[wid - 1].deleted:
                wid -= 1
            top = self.waves[wid]
            self._bot_cb, self._bot_ool, self._top_ool = top.bot_cb, top.bot_ool, top.top_ool
            del self.waves[wid:]
        return 0

    def get(self, wid: int) -> Wave | None:
        if 0 <= wid < len(self.waves) and not self.waves[wid].deleted:
            return self.waves[wid]
        return None

    def stat(self, which: str, sub: int) -> int | None:
        if sub == 0:
            return self.stats[which]
        if sub == 1:
            return self.high[which]
        if sub == 2:
            return self.max[which]
        return None
