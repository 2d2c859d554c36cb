"""Blocking pigpio calls that put a wave program on pigpiod (run on the pigpio thread)."""

from __future__ import annotations

from dataclasses import dataclass

import pigpio

from raild.motion.program import Pulse, WaveProgram


@dataclass
class Loaded:
    chain: bytes
    marker_id: int  # the halt marker wave: sent in place of the program to stop it


def _create(pi: pigpio.pi, pulses: tuple[Pulse, ...] | list[Pulse]) -> int:
    pi.wave_add_new()
    pi.wave_add_generic([pigpio.pulse(p.on_mask, p.off_mask, p.delay_us) for p in pulses])
    return pi.wave_create()


def load(pi: pigpio.pi, program: WaveProgram, marker: list[Pulse], clear: bool) -> Loaded:
    """Create the program's waves and its halt marker; `clear` first frees every wave (idle only)."""
    if clear:
        pi.wave_clear()
    ids = [_create(pi, wave) for wave in program.waves]
    marker_id = _create(pi, marker)
    return Loaded(program.chain_bytes(ids), marker_id)
