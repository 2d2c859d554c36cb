"""Blocking pigpio calls that put waves on pigpiod (run them on the pigpio thread).

raild's pulses (`raild.hw.pigpio_facts.Pulse`) become pigpio's here, and nowhere
else: the pigpio drive's segments and halt marker, and a whole wave program with
its marker (`load`, used by the chain tests and `hw_tests/test_pulses.py`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import pigpio

from raild.hw.pigpio_facts import Pulse
from raild.motion.program import WaveProgram


@dataclass
class Loaded:
    chain: bytes
    marker_id: int  # the halt marker wave: sent in place of the program to stop it


def pigpio_pulses(pulses: Iterable[Pulse]) -> list[pigpio.pulse]:
    return [pigpio.pulse(p.on_mask, p.off_mask, p.delay_us) for p in pulses]


def create_wave(pi: pigpio.pi, pulses: Iterable[Pulse]) -> int:
    """One wave made of `pulses`; returns its id."""
    pi.wave_add_new()
    pi.wave_add_generic(pigpio_pulses(pulses))
    return int(pi.wave_create())


def load(pi: pigpio.pi, program: WaveProgram, marker: list[Pulse], clear: bool) -> Loaded:
    """Create the program's waves and its halt marker; `clear` first frees every wave (idle only)."""
    if clear:
        pi.wave_clear()
    ids = [create_wave(pi, wave) for wave in program.waves]
    marker_id = create_wave(pi, marker)
    return Loaded(program.chain_bytes(ids), marker_id)
