"""The virtual rail: a carriage on a lead screw, driven by STEP/DIR/EN pins.

Mechanics and the faults it models (all simulated):
- A STEP pulse moves the motor one microstep in the DIR direction (DIR high =
  towards max) when EN enables the driver; a step sent to a disabled driver is
  lost. The step is taken on the rising edge; a pulse shorter than
  `sim.min_pulse_us` is ignored by the driver and recorded as a violation, as is
  a DIR change less than `sim.min_dir_setup_us` before a rising STEP edge.
- Stall model. The commanded speed is estimated over the last step intervals
  of the current direction that together span at least 200 µs (at most 8), so
  1 µs rounding of fast step trains is not mistaken for a speed change while
  slow steps are judged one by one. The rotor follows it but can change its speed by at most
  `sim.motor_max_accel_um_s2` × interval. The motor stalls when the commanded
  speed exceeds `sim.motor_max_speed_um_s`, or when the rotor lags the
  commanded speed by more than the *start speed*
  v_start = sqrt(2 × max_accel × µm per step), the speed a motor can reach
  from rest within one step. A stalled motor loses every step until one comes
  slowly enough to start from standstill (single-interval speed ≤ v_start);
  that step resynchronises it. A step at a startable speed never stalls.
- Backlash (`sim.backlash_um`): the carriage lags the motor by up to that much
  after a reversal. Hard stops 1 mm beyond both ends of travel block the
  carriage; steps against them are lost.
- Limit switches trip at carriage ≤ 0 µm (min) and ≥ travel (max). Wiring follows
  `pins.limit_pull`: with "up" the switch closes to ground, with "down" to 3.3 V,
  and in its open state the pin reads whatever pull the client set (a floating
  input keeps its last level); with "off" an external resistor is assumed and the
  switch drives both levels. `pins.limit_active_high` gives the tripped level.
- Shutter and focus pins record a `Trigger` on each level change, with the tick,
  wall time and true position; `record_capture()` adds capture instants.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass
from typing import Any

from raild.config import Config
from raild.sim.clock import EmuClock
from raild.sim.gpio import GpioBank
from raild.sim.pulselog import PulseLog, StepRecord

HARD_STOP_MARGIN_UM = 1000.0
SPEED_WINDOW_STEPS = 8
SPEED_WINDOW_US = 200
PULSE_LOG_MAX = 100_000
RECORDS_MAX = 20_000  # violations and triggers kept (the violation count goes on)


@dataclass(frozen=True)
class Violation:
    kind: str  # "step_pulse_too_short" | "dir_setup"
    tick: int
    emu_us: int
    time_s: float
    detail: str


@dataclass(frozen=True)
class Trigger:
    kind: str  # "shutter" | "focus" | "capture"
    level: int | None
    active: bool
    tick: int
    emu_us: int
    time_s: float
    position_um: float
    position_steps: int
    label: str = ""


class VirtualRail:
    def __init__(
        self, config: Config, gpio: GpioBank, clock: EmuClock, synced: Callable[[], AbstractContextManager[int]]
    ) -> None:
        self._cfg = config
        self._gpio = gpio
        self._clock = clock
        self._synced = synced  # lock + bring the wave timeline up to now; yields emu µs
        pins = config.pins
        self.um_per_step = config.rail.um_per_step
        self.travel_um = config.rail.travel_mm * 1000.0
        self._step_bit = 1 << pins.step
        self._dir_bit = 1 << pins.dir
        self._en_bit = (1 << pins.enable) if pins.enable else 0
        self._shutter_bit = (1 << pins.shutter) if pins.shutter else 0
        self._focus_bit = (1 << pins.focus) if pins.focus else 0
        self._v_max = config.sim.motor_max_speed_um_s
        self._a_max = config.sim.motor_max_accel_um_s2
        self.v_start_um_s = math.sqrt(2.0 * self._a_max * self.um_per_step)
        self._backlash_steps = round(config.sim.backlash_um / self.um_per_step)
        self._min_steps = -round(HARD_STOP_MARGIN_UM / self.um_per_step)
        self._max_steps = round((self.travel_um + HARD_STOP_MARGIN_UM) / self.um_per_step)
        self._switch_state: dict[str, bool | None] = {"min": None, "max": None}
        self.reset_counters_locked()
        self._set_position_locked(config.sim.start_position_um, 0)
        self._dir_change_us = -(10**12)
        self._rise_us: int | None = None
        self._rise_dir = 1
        self._rise_enabled = True
        self._rise_committed = False

    # ----- inspection (thread-safe) -----
    @property
    def true_position_steps(self) -> int:
        with self._synced():
            return self._carriage

    @property
    def true_position_um(self) -> float:
        with self._synced():
            return self._carriage * self.um_per_step

    @property
    def motor_position_steps(self) -> int:
        with self._synced():
            return self._motor

    @property
    def lost_steps(self) -> int:
        with self._synced():
            return sum(self.lost_by_reason.values())

    @property
    def lost_steps_by_reason(self) -> dict[str, int]:
        with self._synced():
            return dict(self.lost_by_reason)

    @property
    def violations(self) -> list[Violation]:
        with self._synced():
            return list(self._violations)

    @property
    def triggers(self) -> list[Trigger]:
        with self._synced():
            return list(self._triggers)

    @property
    def pulse_log(self) -> list[StepRecord]:
        with self._synced():
            return self._pulse_log.records()

    def pulse_log_tail(self, last: int) -> list[StepRecord]:
        """Only the newest `last` step records (cheap when the log is long)."""
        with self._synced():
            return self._pulse_log.records(last)

    @property
    def stalled(self) -> bool:
        with self._synced():
            return self._stalled

    def switch_states(self) -> dict[str, bool]:
        """Whether each limit switch is tripped (physically, whatever the pin reads)."""
        with self._synced():
            return {"min": self._carriage_um() <= 0.0, "max": self._carriage_um() >= self.travel_um}

    def limit_tripped_locked(self) -> bool:
        """Either switch tripped; for a caller already holding the lock (the grbl emulator, per step)."""
        pos_um = self._carriage * self.um_per_step
        return pos_um <= 0.0 or pos_um >= self.travel_um

    def set_position_um(self, position_um: float) -> None:
        """Move the carriage by hand (motor and carriage together; stall cleared).

        Positions beyond the hard stops end at the stop."""
        if not math.isfinite(position_um):
            raise ValueError(f"position must be a finite number of µm, not {position_um!r}")
        with self._synced() as now_us:
            self._set_position_locked(position_um, now_us)

    def reset_counters(self) -> None:
        with self._synced():
            self.reset_counters_locked()

    def record_output_locked(self, kind: str, level: int, t_us: int, label: str = "") -> Trigger:
        """A controller's output other than a GPIO pin changed (grbl's coolant pin driving a
        wired shutter); active high. The caller holds the lock (it is the machine running)."""
        return self._trigger(kind, level, bool(level), t_us, label)

    def record_capture(self, label: str) -> Trigger:
        with self._synced() as now_us:
            trig = self._trigger("capture", None, True, now_us, label)
            return trig

    def status(self) -> dict[str, Any]:
        with self._synced():
            return {
                "true_position_um": self._carriage * self.um_per_step,
                "true_position_steps": self._carriage,
                "motor_position_steps": self._motor,
                "lost_steps": sum(self.lost_by_reason.values()),
                "lost_by_reason": dict(self.lost_by_reason),
                "stalled": self._stalled,
                "violations": self.violation_count,
                "triggers": len(self._triggers),
                "switches": {"min": self._carriage_um() <= 0.0, "max": self._carriage_um() >= self.travel_um},
            }

    # ----- internals (caller holds the lock) -----
    def reset_counters_locked(self) -> None:
        self.lost_by_reason = {"disabled": 0, "stall": 0, "hard_stop": 0, "short_pulse": 0}
        self._violations: deque[Violation] = deque(maxlen=RECORDS_MAX)
        self.violation_count = 0
        self._triggers: deque[Trigger] = deque(maxlen=RECORDS_MAX)
        self._pulse_log = PulseLog(PULSE_LOG_MAX, self._clock.tick_offset_us)

    def _set_position_locked(self, position_um: float, now_us: int) -> None:
        steps = round(position_um / self.um_per_step)
        self._motor = self._carriage = max(self._min_steps, min(self._max_steps, steps))
        self._stalled = False
        self._v_rotor = 0.0
        self._run_dir = 0
        self._run_times: deque[int] = deque(maxlen=SPEED_WINDOW_STEPS + 1)
        self._last_cmd_us: int | None = None
        self._update_switches(now_us)

    def _carriage_um(self) -> float:
        return self._carriage * self.um_per_step

    def on_gpio(self, changed: int, levels: int, emu_us: int) -> None:
        if changed & self._dir_bit:
            self._dir_change_us = emu_us
        if changed & self._step_bit:
            if levels & self._step_bit:
                self._rise_us = emu_us
                self._rise_dir = 1 if levels & self._dir_bit else -1
                self._rise_enabled = self._driver_enabled(levels)
                self._rise_committed = False
                if emu_us - self._dir_change_us < self._cfg.sim.min_dir_setup_us:
                    self._violation(
                        "dir_setup",
                        emu_us,
                        f"DIR changed {emu_us - self._dir_change_us} µs before a STEP edge "
                        f"(needs {self._cfg.sim.min_dir_setup_us} µs)",
                    )
            elif self._rise_us is not None:
                width_us = emu_us - self._rise_us
                if not self._rise_committed:
                    if width_us < self._cfg.sim.min_pulse_us:
                        self._violation(
                            "step_pulse_too_short",
                            self._rise_us,
                            f"STEP high for {width_us} µs (needs {self._cfg.sim.min_pulse_us} µs)",
                        )
                        self._lose("short_pulse", self._rise_us, self._rise_dir)
                    else:
                        self._step(self._rise_us, self._rise_dir, self._rise_enabled)
                self._rise_us = None
        if changed & self._shutter_bit:
            level = 1 if levels & self._shutter_bit else 0
            self._trigger("shutter", level, bool(level) == self._cfg.pins.shutter_active_high, emu_us)
        if changed & self._focus_bit:
            level = 1 if levels & self._focus_bit else 0
            self._trigger("focus", level, bool(level) == self._cfg.pins.shutter_active_high, emu_us)

    def settle(self, now_us: int) -> None:
        """A STEP pulse still high but already long enough has stepped the motor."""
        if self._rise_us is not None and not self._rise_committed:
            if now_us - self._rise_us >= self._cfg.sim.min_pulse_us:
                self._rise_committed = True
                self._step(self._rise_us, self._rise_dir, self._rise_enabled)

    def _driver_enabled(self, levels: int) -> bool:
        if not self._en_bit:
            return True
        high = bool(levels & self._en_bit)
        return high != self._cfg.pins.enable_active_low

    def _step(self, t_us: int, direction: int, enabled: bool) -> None:
        if not enabled:
            self._lose("disabled", t_us, direction)
            return
        if not self._motor_follows(t_us, direction):
            self._lose("stall", t_us, direction)
            return
        motor = self._motor + direction
        carriage = self._carriage
        if carriage < motor - self._backlash_steps:
            carriage = motor - self._backlash_steps
        elif carriage > motor:
            carriage = motor
        if not self._min_steps <= carriage <= self._max_steps:
            self._lose("hard_stop", t_us, direction)
            return
        self._motor, self._carriage = motor, carriage
        self._pulse_log.append(t_us, direction, "moved", carriage)
        self._update_switches(t_us)

    def _motor_follows(self, t_us: int, direction: int) -> bool:
        """The stall model (see the module docstring); True if the rotor takes this step."""
        last = self._last_cmd_us
        self._last_cmd_us = t_us
        if direction != self._run_dir:
            self._run_dir = direction
            self._run_times.clear()
        self._run_times.append(t_us)
        dt_us = max(1, t_us - last) if last is not None else None
        v_single = self.um_per_step * 1e6 / dt_us if dt_us else 0.0
        startable = v_single <= self.v_start_um_s
        times = self._run_times
        if len(times) >= 2:
            n = 1
            while n < len(times) - 1 and times[-1] - times[-1 - n] < SPEED_WINDOW_US:
                n += 1
            v_cmd = direction * n * self.um_per_step * 1e6 / max(1, times[-1] - times[-1 - n])
        else:
            v_cmd = direction * v_single
        if self._stalled:
            if startable:
                self._stalled = False
                self._v_rotor = v_cmd
                return True
            return False
        if startable:
            self._v_rotor = v_cmd
            return True
        max_dv = self._a_max * dt_us / 1e6 if dt_us else math.inf
        dv = v_cmd - self._v_rotor
        self._v_rotor += max(-max_dv, min(max_dv, dv))
        if abs(v_cmd) > self._v_max or abs(v_cmd - self._v_rotor) > self.v_start_um_s:
            self._stalled = True
            self._v_rotor = 0.0
            return False
        return True

    def _lose(self, reason: str, t_us: int, direction: int) -> None:
        self.lost_by_reason[reason] += 1
        self._pulse_log.append(t_us, direction, reason, self._carriage)

    def _violation(self, kind: str, t_us: int, detail: str) -> None:
        self.violation_count += 1
        self._violations.append(Violation(kind, self._clock.tick_at(t_us), t_us, time.time(), detail))

    def _trigger(self, kind: str, level: int | None, active: bool, t_us: int, label: str = "") -> Trigger:
        trig = Trigger(
            kind,
            level,
            active,
            self._clock.tick_at(t_us),
            t_us,
            time.time(),
            self._carriage * self.um_per_step,
            self._carriage,
            label,
        )
        self._triggers.append(trig)
        return trig

    def _update_switches(self, t_us: int) -> None:
        pos_um = self._carriage_um()
        for side, pin, tripped in (
            ("min", self._cfg.pins.limit_min, pos_um <= 0.0),
            ("max", self._cfg.pins.limit_max, pos_um >= self.travel_um),
        ):
            if pin and self._switch_state[side] != tripped:
                self._switch_state[side] = tripped
                self._gpio.drive(pin, self._switch_drive(tripped), t_us)

    def _switch_drive(self, tripped: bool) -> int | None:
        pins = self._cfg.pins
        active = 1 if pins.limit_active_high else 0
        level = active if tripped else 1 - active
        if pins.limit_pull == "off":
            return level
        closed_level = 0 if pins.limit_pull == "up" else 1
        return closed_level if level == closed_level else None


def as_dict(record: Violation | Trigger | StepRecord) -> dict[str, Any]:
    return asdict(record)
