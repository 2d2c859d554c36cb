"""The emulated pigpiod: GPIO bank, waves, notifications and the virtual rail
behind one lock, answering socket commands with pigpiod's results.

Everything is driven by the emulated clock; before answering any command (or
any inspection from another thread) the wave engine is brought up to "now".
The asyncio server and the scheduling hooks live in `rig.py`/`server.py`.
"""

from __future__ import annotations

import struct
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from raild.config import Config
from raild.sim import protocol as p
from raild.sim.clock import EmuClock
from raild.sim.engine import WaveEngine
from raild.sim.gpio import GpioBank
from raild.sim.notify import Notifier, Sink
from raild.sim.rail import VirtualRail
from raild.sim.timeline import ChainError, Program, WaveItem, parse_chain
from raild.sim.waves import WaveStore


class Hooks:
    """What the emulator needs from its event loop (set by the rig)."""

    def __init__(self) -> None:
        self.schedule_at: Callable[[int, Callable[[], None]], None] = lambda emu_us, fn: None
        self.request_flush: Callable[[], None] = lambda: None
        self.kick: Callable[[], None] = lambda: None  # a program started: pump the timeline


class Connection:
    """One client socket, as the emulator sees it."""

    def __init__(self, sink: Sink) -> None:
        self.sink = sink


class Emulator:
    def __init__(self, config: Config, hooks: Hooks | None = None) -> None:
        self.config = config
        self.hooks = hooks or Hooks()
        self.lock = threading.RLock()
        self.clock = EmuClock(config.sim.tick_offset_us, config.sim.time_scale)
        self.gpio = GpioBank()
        self.store = WaveStore()
        self.engine = WaveEngine(self.gpio)
        self.rail = VirtualRail(config, self.gpio, self.clock, self.synced)
        self.notifier = Notifier(self.gpio, self.clock, self._schedule, self._request_flush)
        self.gpio.listeners.append(self.rail.on_gpio)
        self.gpio.listeners.append(self.notifier.on_gpio)
        self.command_counts: dict[int, int] = {}
        # Waves re-created (WVCRE/WVCAP) in the memory of a wave still queued or playing: on a Pi
        # the DMA would play the new pulses in its place. The emulator plays the old ones and counts it.
        self.clobbered_waves = 0

    def _schedule(self, emu_us: int, fn: Callable[[], None]) -> None:
        self.hooks.schedule_at(emu_us, fn)

    def _request_flush(self) -> None:
        self.hooks.request_flush()

    @contextmanager
    def synced(self) -> Iterator[int]:
        """Hold the lock with the timeline advanced to now; yields the emulated µs."""
        with self.lock:
            now_us = self.clock.now_us()
            self.advance(now_us)
            yield now_us

    def advance(self, now_us: int) -> None:
        self.engine.advance_to(now_us)
        self.rail.settle(now_us)

    # ----- commands -----
    def execute(self, conn: Connection, cmd: int, p1: int, p2: int, ext: bytes) -> int:
        with self.synced() as now_us:
            self.command_counts[cmd] = self.command_counts.get(cmd, 0) + 1
            handler = _HANDLERS.get(cmd)
            if handler is None:
                return p.PI_UNKNOWN_COMMAND
            return handler(self, conn, p1, p2, ext, now_us)

    def disconnected(self, conn: Connection) -> None:
        # pigpiod closes the notifications of a socket that goes away; waves keep running.
        with self.lock:
            self.notifier.close_owned_by(conn)


def _permitted(g: int) -> bool:
    return g > p.MAX_GPIO or bool(p.PI4_UPDATE_MASK & (1 << g))


def _modes(emu: Emulator, conn: Connection, g: int, mode: int, ext: bytes, now_us: int) -> int:
    if not _permitted(g):
        return p.PI_NOT_PERMITTED
    if g > p.MAX_GPIO:
        return p.PI_BAD_GPIO
    if mode > p.MAX_MODE:
        return p.PI_BAD_MODE
    emu.gpio.set_mode(g, mode, now_us)
    return 0


def _modeg(emu: Emulator, conn: Connection, g: int, _: int, ext: bytes, now_us: int) -> int:
    return p.PI_BAD_GPIO if g > p.MAX_GPIO else emu.gpio.modes[g]


def _pud(emu: Emulator, conn: Connection, g: int, pud: int, ext: bytes, now_us: int) -> int:
    if not _permitted(g):
        return p.PI_NOT_PERMITTED
    if g > p.MAX_GPIO:
        return p.PI_BAD_GPIO
    if pud > p.PUD_UP:
        return p.PI_BAD_PUD
    emu.gpio.set_pull(g, pud, now_us)
    return 0


def _read(emu: Emulator, conn: Connection, g: int, _: int, ext: bytes, now_us: int) -> int:
    return p.PI_BAD_GPIO if g > p.MAX_GPIO else emu.gpio.level(g)


def _write(emu: Emulator, conn: Connection, g: int, level: int, ext: bytes, now_us: int) -> int:
    if not _permitted(g):
        return p.PI_NOT_PERMITTED
    if g > p.MAX_GPIO:
        return p.PI_BAD_GPIO
    if level > 1:
        return p.PI_BAD_LEVEL
    emu.gpio.write(g, level, now_us)
    return 0


def _bits(set_: bool) -> Callable[[Emulator, Connection, int, int, bytes, int], int]:
    def handler(emu: Emulator, conn: Connection, bits: int, _: int, ext: bytes, now_us: int) -> int:
        allowed = bits & p.PI4_UPDATE_MASK
        if set_:
            emu.gpio.apply_wave(allowed, 0, now_us)
        else:
            emu.gpio.apply_wave(0, allowed, now_us)
        return p.PI_SOME_PERMITTED if allowed != bits else 0

    return handler


def _br1(emu: Emulator, conn: Connection, a: int, b: int, ext: bytes, now_us: int) -> int:
    return emu.gpio.bank1


def _br2(emu: Emulator, conn: Connection, a: int, b: int, ext: bytes, now_us: int) -> int:
    return (emu.gpio.levels >> 32) & 0x3FFFFF


def _tick(emu: Emulator, conn: Connection, a: int, b: int, ext: bytes, now_us: int) -> int:
    return emu.clock.tick_at(now_us)


def _hwver(emu: Emulator, conn: Connection, a: int, b: int, ext: bytes, now_us: int) -> int:
    return p.PI4_REVISION


def _pigpv(emu: Emulator, conn: Connection, a: int, b: int, ext: bytes, now_us: int) -> int:
    return p.PIGPIO_VERSION


def _no(emu: Emulator, conn: Connection, a: int, b: int, ext: bytes, now_us: int) -> int:
    return emu.notifier.open(conn, None)


def _noib(emu: Emulator, conn: Connection, a: int, b: int, ext: bytes, now_us: int) -> int:
    return emu.notifier.open(conn, conn.sink)


def _nb(emu: Emulator, conn: Connection, handle: int, bits: int, ext: bytes, now_us: int) -> int:
    return emu.notifier.begin(handle, bits)


def _np(emu: Emulator, conn: Connection, handle: int, _: int, ext: bytes, now_us: int) -> int:
    return emu.notifier.pause(handle)


def _nc(emu: Emulator, conn: Connection, handle: int, _: int, ext: bytes, now_us: int) -> int:
    return emu.notifier.close(handle)


def _fg(emu: Emulator, conn: Connection, g: int, steady: int, ext: bytes, now_us: int) -> int:
    if g > p.MAX_USER_GPIO:
        return p.PI_BAD_USER_GPIO
    if steady > p.MAX_STEADY_US:
        return p.PI_BAD_FILTER
    emu.notifier.set_filter(g, steady, now_us)
    return 0


def _wdog(emu: Emulator, conn: Connection, g: int, timeout_ms: int, ext: bytes, now_us: int) -> int:
    if g > p.MAX_USER_GPIO:
        return p.PI_BAD_USER_GPIO
    if timeout_ms > p.MAX_WDOG_TIMEOUT_MS:
        return p.PI_BAD_WDOG_TIMEOUT
    emu.notifier.set_watchdog(g, timeout_ms * 1000, now_us)
    return 0


def _wvclr(emu: Emulator, conn: Connection, a: int, b: int, ext: bytes, now_us: int) -> int:
    emu.store.clear()
    return 0


def _wvnew(emu: Emulator, conn: Connection, a: int, b: int, ext: bytes, now_us: int) -> int:
    emu.store.new()
    return 0


def _wvag(emu: Emulator, conn: Connection, a: int, b: int, ext: bytes, now_us: int) -> int:
    n = len(ext) // 12
    pulses = []
    masked = False
    for on, off, delay in struct.iter_unpack("<III", ext[: n * 12]):
        if on & ~p.PI4_UPDATE_MASK or off & ~p.PI4_UPDATE_MASK:
            masked = True
            on &= p.PI4_UPDATE_MASK
            off &= p.PI4_UPDATE_MASK
        pulses.append((on, off, delay))
    res = emu.store.add_generic(pulses)
    return p.PI_SOME_PERMITTED if masked and res >= 0 else res


def _created(emu: Emulator, wid: int) -> int:
    if wid >= 0 and wid in emu.engine.wids_in_use():
        emu.clobbered_waves += 1
    return wid


def _wvcre(emu: Emulator, conn: Connection, a: int, b: int, ext: bytes, now_us: int) -> int:
    return _created(emu, emu.store.create())


def _wvcap(emu: Emulator, conn: Connection, pct_cb: int, pct_bool: int, ext: bytes, now_us: int) -> int:
    # pigpiod's variadic WVCAP: (cb, bool, tool in ext) | (cb, bool) | (cb) meaning cb = bool
    if len(ext) == 4:
        return _created(emu, emu.store.create_padded(pct_cb, pct_bool, struct.unpack("<I", ext)[0]))
    if pct_bool and not ext:
        return _created(emu, emu.store.create_padded(pct_cb, pct_bool, 0))
    if not pct_bool and not ext:
        return _created(emu, emu.store.create_padded(pct_cb, pct_cb, 0))
    return p.PI_BAD_WAVE_ID  # what pigpiod answers to any other shape


def _wvdel(emu: Emulator, conn: Connection, wid: int, b: int, ext: bytes, now_us: int) -> int:
    return emu.store.delete(wid)


def _send(emu: Emulator, wid: int, mode: int, now_us: int) -> int:
    wave = emu.store.get(wid)
    if wave is None:
        return p.PI_BAD_WAVE_ID
    if mode > p.WAVE_MODE_REPEAT_SYNC:
        return p.PI_BAD_WAVE_MODE
    program = Program([WaveItem(wid, wave.pulses)], repeat=bool(mode & 1))
    program.single_wave = True
    if mode >= p.WAVE_MODE_ONE_SHOT_SYNC:
        emu.engine.start_sync(program, now_us)
    else:
        emu.engine.start(program, now_us)
    emu.hooks.kick()
    return wave.num_cb


def _wvtx(emu: Emulator, conn: Connection, wid: int, b: int, ext: bytes, now_us: int) -> int:
    return _send(emu, wid, p.WAVE_MODE_ONE_SHOT, now_us)


def _wvtxr(emu: Emulator, conn: Connection, wid: int, b: int, ext: bytes, now_us: int) -> int:
    return _send(emu, wid, p.WAVE_MODE_REPEAT, now_us)


def _wvtxm(emu: Emulator, conn: Connection, wid: int, mode: int, ext: bytes, now_us: int) -> int:
    return _send(emu, wid, mode, now_us)


def _wvcha(emu: Emulator, conn: Connection, a: int, b: int, ext: bytes, now_us: int) -> int:
    emu.engine.halt(now_us)  # pigpiod stops the DMA before it even parses the chain
    try:
        items = parse_chain(ext, emu.store)
    except ChainError as exc:
        return exc.code
    emu.engine.start(Program(items), now_us)
    emu.hooks.kick()
    return 0


def _wvbsy(emu: Emulator, conn: Connection, a: int, b: int, ext: bytes, now_us: int) -> int:
    return 1 if emu.engine.busy else 0


def _wvhlt(emu: Emulator, conn: Connection, a: int, b: int, ext: bytes, now_us: int) -> int:
    emu.engine.halt(now_us)
    return 0


def _wvtat(emu: Emulator, conn: Connection, a: int, b: int, ext: bytes, now_us: int) -> int:
    if not emu.engine.busy:
        return p.NO_TX_WAVE
    at = emu.engine.at
    if at == p.WAVE_NOT_FOUND or emu.store.get(at) is None:
        return p.WAVE_NOT_FOUND
    return at


def _stat(which: str, bad: int) -> Callable[[Emulator, Connection, int, int, bytes, int], int]:
    def handler(emu: Emulator, conn: Connection, sub: int, b: int, ext: bytes, now_us: int) -> int:
        value = emu.store.stat(which, sub)
        return bad if value is None else value

    return handler


_HANDLERS: dict[int, Callable[[Emulator, Connection, int, int, bytes, int], int]] = {
    p.MODES: _modes,
    p.MODEG: _modeg,
    p.PUD: _pud,
    p.READ: _read,
    p.WRITE: _write,
    p.BC1: _bits(False),
    p.BS1: _bits(True),
    p.BR1: _br1,
    p.BR2: _br2,
    p.TICK: _tick,
    p.HWVER: _hwver,
    p.PIGPV: _pigpv,
    p.WDOG: _wdog,
    p.NO: _no,
    p.NOIB: _noib,
    p.NB: _nb,
    p.NP: _np,
    p.NC: _nc,
    p.FG: _fg,
    p.WVCLR: _wvclr,
    p.WVNEW: _wvnew,
    p.WVAG: _wvag,
    p.WVCRE: _wvcre,
    p.WVCAP: _wvcap,
    p.WVDEL: _wvdel,
    p.WVTX: _wvtx,
    p.WVTXR: _wvtxr,
    p.WVTXM: _wvtxm,
    p.WVCHA: _wvcha,
    p.WVBSY: _wvbsy,
    p.WVHLT: _wvhlt,
    p.WVTAT: _wvtat,
    p.WVSM: _stat("micros", p.PI_BAD_WVSM_COMMND),
    p.WVSP: _stat("pulses", p.PI_BAD_WVSP_COMMND),
    p.WVSC: _stat("cbs", p.PI_BAD_WVSC_COMMND),
}
