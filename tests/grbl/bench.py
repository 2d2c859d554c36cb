"""Drive the grbl emulator byte by byte on an explicit emulated clock (no threads, no sleeps)."""

from __future__ import annotations

from raild.config import Config
from raild.sim.grbl.machine import GrblMachine
from raild.sim.grbl.sim import GrblSim

TICK_US = 1000.0


class Bench:
    def __init__(self, config: Config, settings: dict[int, float] | None = None) -> None:
        self.sim = GrblSim(config, settings)
        self.t_us = 0.0
        self.read()  # the power-up banner

    @property
    def m(self) -> GrblMachine:
        return self.sim.machine

    def send(self, data: bytes) -> str:
        with self.sim.lock:
            self.sim._in_machine = True
            try:
                self.m.feed(data, self.t_us)
            finally:
                self.sim._in_machine = False
        return self.read()

    def run(self, seconds: float) -> str:
        end = self.t_us + seconds * 1e6
        while self.t_us < end:
            self.t_us = min(end, self.t_us + TICK_US)
            with self.sim.lock:
                self.sim._in_machine = True
                try:
                    self.m.advance(self.t_us)
                finally:
                    self.sim._in_machine = False
        return self.read()

    def run_until(self, predicate: object, limit_s: float = 60.0) -> str:
        out = []
        waited = 0.0
        while not predicate():  # type: ignore[operator]
            out.append(self.run(0.001))
            waited += 0.001
            if waited > limit_s:
                raise AssertionError("condition not reached in emulated time")
        return "".join(out)

    def read(self) -> str:
        with self.sim.lock:
            text = self.sim._out.decode("ascii")
            self.sim._out.clear()
        return text

    def status(self) -> str:
        out = self.send(b"?")
        return next(line for line in out.split("\r\n") if line.startswith("<"))

    @property
    def true_steps(self) -> int:
        return self.sim.rail.true_position_steps

    def unlock(self) -> None:
        assert "ok" in self.send(b"$X\n")
