"""Compile a step profile into a pigpio wave program (waves + chain), pure data.

Layout of a move of N steps:
- wave 0 starts with one pulse that sets DIR (and pulls STEP low) and waits
  `dir_setup_us`, then carries the first head steps;
- the head (acceleration) and tail (deceleration and the cruise remainder) are
  explicit steps grouped into waves of at most `MAX_STEPS_PER_WAVE` steps, so a
  wave always fits one WVAG call (≤ 5461 pulses, the 64 KiB extension limit);
- the cruise is one wave of whole pattern periods looped by the chain, nested
  when the count passes 65 535, plus one single-period wave looped for the rest.

Each step is two pulses: STEP high for `step_pulse_us`, then low for the rest of
its interval. The program knows its exact duration and, for any elapsed time
since its first pulse, how many rising STEP edges it has emitted.

Every pigpio limit is checked here, with pigpio's own accounting (pigpio.c:
a wave costs one CB plus one per level change and one per delay; a chain costs
one CB at its start and end, one per wave reference and one per loop that
repeats). A move that cannot fit raises `ProgramError` instead of emitting
something else.
"""

from __future__ import annotations

from dataclasses import dataclass

from raild.hw.pigpio_facts import PIGPIO, PigpioLimits, Pulse
from raild.motion.profile import Profile

MAX_STEPS_PER_WAVE = 2700  # 5400 pulses + the DIR pulse < 5461 per WVAG call
CRUISE_WAVE_STEPS = 256  # steps per looped cruise wave: few CBs, short loops


@dataclass(frozen=True)
class Budget:
    """The share of pigpio's wave memory one move may take.

    A controlled stop builds its deceleration waves while the move still runs,
    so a move keeps clear of the whole pool.
    """

    wave_ids: int = 200
    wave_cbs: int = 16_000
    wave_ools: int = 11_000


MOVE_BUDGET = Budget()


class ProgramError(ValueError):
    """The move cannot be expressed within pigpio's limits."""


@dataclass(frozen=True)
class Loop:
    body: tuple[ChainItem, ...]
    count: int


ChainItem = int | Loop  # int: an index into `WaveProgram.waves`


@dataclass(frozen=True)
class WaveProgram:
    waves: tuple[tuple[Pulse, ...], ...]
    chain: tuple[ChainItem, ...]
    profile: Profile
    direction: int  # +1 or -1
    lead_us: int  # from the first pulse to the first STEP edge (any prefix, then the DIR setup)
    dir_high: bool = True  # the DIR level the program sets

    @property
    def steps(self) -> int:
        return self.profile.steps

    @property
    def duration_us(self) -> int:
        return self.lead_us + self.profile.duration_us

    def steps_at(self, elapsed_us: float) -> int:
        """Rising STEP edges at or before `elapsed_us` after the first pulse."""
        return self.profile.steps_at(elapsed_us - self.lead_us)

    def step_time_us(self, k: int) -> int:
        return self.lead_us + self.profile.step_time_us(k)

    def chain_bytes(self, wave_ids: list[int]) -> bytes:
        """The WVCHA bytes, given the pigpio id each wave got from wave_create."""
        if len(wave_ids) != len(self.waves):
            raise ProgramError(f"{len(self.waves)} wave ids needed, {len(wave_ids)} given")
        out = bytearray()
        _encode(self.chain, wave_ids, out)
        return bytes(out)

    @property
    def chain_cbs(self) -> int:
        return 2 + _chain_cost(self.chain)[0]

    @property
    def loop_counters(self) -> int:
        return _chain_cost(self.chain)[1]

    @property
    def nesting(self) -> int:
        return _depth(self.chain)

    @property
    def wave_cbs(self) -> int:
        return sum(wave_cbs(w) for w in self.waves)

    @property
    def wave_ools(self) -> int:
        return sum(wave_ools(w) for w in self.waves)

    def chain_duration_us(self) -> int:
        """The duration from the chain structure itself (equals `duration_us`)."""
        return _chain_time(self.chain, self.waves)


def wave_cbs(pulses: tuple[Pulse, ...]) -> int:
    return 1 + sum((1 if (p.on_mask or p.off_mask) else 0) + (1 if p.delay_us else 0) for p in pulses)


def wave_ools(pulses: tuple[Pulse, ...]) -> int:
    return sum((1 if p.on_mask else 0) + (1 if p.off_mask else 0) for p in pulses)


def _encode(items: tuple[ChainItem, ...], ids: list[int], out: bytearray) -> None:
    for item in items:
        if isinstance(item, Loop):
            out += b"\xff\x00"
            _encode(item.body, ids, out)
            out += bytes((255, 1, item.count & 0xFF, item.count >> 8))
        else:
            wid = ids[item]
            if not 0 <= wid < 250:
                raise ProgramError(f"wave id {wid} cannot appear in a chain")
            out.append(wid)


def _chain_cost(items: tuple[ChainItem, ...]) -> tuple[int, int]:
    cbs = counters = 0
    for item in items:
        if isinstance(item, Loop):
            c, n = _chain_cost(item.body)
            cbs += c + (1 if item.count > 1 else 0)
            counters += n + (1 if item.count > 1 else 0)
        else:
            cbs += 1
    return cbs, counters


def _depth(items: tuple[ChainItem, ...]) -> int:
    return max((1 + _depth(i.body) for i in items if isinstance(i, Loop)), default=0)


def _chain_time(items: tuple[ChainItem, ...], waves: tuple[tuple[Pulse, ...], ...]) -> int:
    total = 0
    for item in items:
        if isinstance(item, Loop):
            total += item.count * _chain_time(item.body, waves)
        else:
            total += sum(p.delay_us for p in waves[item])
    return total


def _step_pulses(intervals: tuple[int, ...] | list[int], step_mask: int, pulse_us: int) -> list[Pulse]:
    out: list[Pulse] = []
    for d in intervals:
        out.append(Pulse(step_mask, 0, pulse_us))
        out.append(Pulse(0, step_mask, d - pulse_us))
    return out


def repeat(body: tuple[ChainItem, ...], count: int, max_count: int = PIGPIO.loop_count) -> tuple[ChainItem, ...]:
    """Chain items that run `body` exactly `count` times, nesting past `max_count`."""
    if count <= 0:
        return ()
    if count == 1:
        return body
    if count <= max_count:
        return (Loop(body, count),)
    outer, rest = divmod(count, max_count)
    return (*repeat((Loop(body, max_count),), outer, max_count), *repeat(body, rest, max_count))


def compile_program(
    profile: Profile,
    *,
    direction: int,
    step_gpio: int,
    dir_gpio: int,
    dir_high_positive: bool = True,
    step_pulse_us: int,
    dir_setup_us: int,
    budget: Budget = MOVE_BUDGET,
    limits: PigpioLimits = PIGPIO,
    prefix: tuple[Pulse, ...] = (),
) -> WaveProgram:
    """Build the wave program for `profile` in `direction` (+1 / -1).

    `prefix` pulses run first (a halt marker, for a stop program that replaces a move).
    """
    if direction not in (1, -1):
        raise ProgramError(f"direction must be +1 or -1 (got {direction!r})")
    if profile.steps <= 0:
        raise ProgramError("a wave program needs at least one step")
    if step_pulse_us < 1 or dir_setup_us < 1:
        raise ProgramError("step_pulse_us and dir_setup_us must be at least 1 µs")
    min_interval = 2 * step_pulse_us
    for group in (profile.head, profile.cruise_pattern, profile.tail):
        if group and min(group) < min_interval:
            raise ProgramError(
                f"a step interval of {min(group)} µs leaves STEP low for less than its {step_pulse_us} µs high time"
            )
    step_mask, dir_mask = 1 << step_gpio, 1 << dir_gpio
    dir_high = (direction > 0) == dir_high_positive
    lead = Pulse(dir_mask if dir_high else 0, step_mask | (0 if dir_high else dir_mask), dir_setup_us)

    waves: list[tuple[Pulse, ...]] = []
    chain: list[ChainItem] = []

    def explicit(intervals: tuple[int, ...], with_lead: bool) -> None:
        chunks = [intervals[i : i + MAX_STEPS_PER_WAVE] for i in range(0, len(intervals), MAX_STEPS_PER_WAVE)]
        if with_lead and not chunks:
            chunks = [()]  # the DIR pulse alone: the move is all cruise
        for n, chunk in enumerate(chunks):
            pulses = ([*prefix, lead] if with_lead and n == 0 else []) + _step_pulses(chunk, step_mask, step_pulse_us)
            waves.append(tuple(pulses))
            chain.append(len(waves) - 1)

    explicit(profile.head, with_lead=True)
    if profile.cruise_repeats:
        pattern = profile.cruise_pattern
        per_wave = max(1, CRUISE_WAVE_STEPS // len(pattern))
        blocks, singles = divmod(profile.cruise_repeats, per_wave)
        if blocks:
            waves.append(tuple(_step_pulses(pattern * per_wave, step_mask, step_pulse_us)))
            chain.extend(repeat((len(waves) - 1,), blocks, limits.loop_count))
        if singles:
            waves.append(tuple(_step_pulses(pattern, step_mask, step_pulse_us)))
            chain.extend(repeat((len(waves) - 1,), singles, limits.loop_count))
    explicit(profile.tail, with_lead=False)

    lead_us = sum(p.delay_us for p in prefix) + dir_setup_us
    program = WaveProgram(tuple(waves), tuple(chain), profile, direction, lead_us, dir_high)
    check_program(program, budget, limits)
    return program


def check_program(program: WaveProgram, budget: Budget = MOVE_BUDGET, limits: PigpioLimits = PIGPIO) -> None:
    """Raise ProgramError naming the first pigpio limit the program would break."""
    problems = []
    if len(program.waves) > min(budget.wave_ids, limits.wave_ids):
        problems.append(f"{len(program.waves)} waves (at most {min(budget.wave_ids, limits.wave_ids)})")
    biggest = max((len(w) for w in program.waves), default=0)
    if biggest > min(limits.pulses_per_call, limits.pulses_per_wave):
        problems.append(f"a wave of {biggest} pulses (at most {limits.pulses_per_call} per WVAG call)")
    if program.wave_cbs > min(budget.wave_cbs, limits.wave_cbs):
        problems.append(f"{program.wave_cbs} wave control blocks (at most {min(budget.wave_cbs, limits.wave_cbs)})")
    if program.wave_ools > min(budget.wave_ools, limits.wave_ools):
        problems.append(f"{program.wave_ools} wave level slots (at most {min(budget.wave_ools, limits.wave_ools)})")
    if program.chain_cbs > limits.chain_cbs:
        problems.append(f"{program.chain_cbs} chain control blocks (at most {limits.chain_cbs})")
    if program.loop_counters > limits.loop_counters:
        problems.append(f"{program.loop_counters} chain loop counters (at most {limits.loop_counters})")
    if program.nesting > limits.nesting:
        problems.append(f"loops nested {program.nesting} deep (at most {limits.nesting})")
    for w in program.waves:
        if any(p.delay_us < 0 or p.delay_us > 2**32 - 1 for p in w):
            problems.append("a pulse delay outside 0..2**32-1 µs")
            break
    if _max_count(program.chain) > limits.loop_count:
        problems.append(f"a loop count above {limits.loop_count}")
    if problems:
        raise ProgramError(
            f"a move of {program.steps} steps does not fit pigpio: "
            + "; ".join(problems)
            + " (raise accel_um_s2 or start_speed_um_s to shorten the ramps)"
        )


def _max_count(items: tuple[ChainItem, ...]) -> int:
    return max(
        (max(i.count, _max_count(i.body)) for i in items if isinstance(i, Loop)),
        default=0,
    )
