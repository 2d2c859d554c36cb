"""Benchmarks of the virtual rig (simulated hardware; host timing).

    .venv/bin/python bench/sim_bench.py [--trials 30]

- limit switch -> client callback: from the emulated instant the carriage reaches
  0 µm (mapped to host time) to the pigpio callback in the client, at time_scale 1;
  and on to the WVHLT the callback sends having returned.
- idle CPU of a started rig with a client watching pins.
- CPU cost of playing steps: a 320 000-step chain at time_scale 1000, and the
  CPU share while a real-time move runs at 9600 steps/s.
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time

import pigpio

from raild.sim.testing import pigpio_client, running_rig

STEP, DIR, EN, LIMIT_MIN = 20, 21, 16, 5
STRONG = {"motor_max_speed_um_s": 1e6, "motor_max_accel_um_s2": 1e12}


def _prepare(pi: pigpio.pi) -> None:
    for g in (STEP, DIR, EN):
        pi.set_mode(g, pigpio.OUTPUT)
    pi.write(EN, 0)
    pi.write(STEP, 0)
    pi.set_pull_up_down(LIMIT_MIN, pigpio.PUD_UP)


def _steps_wave(pi: pigpio.pi, n: int, period_us: int) -> int:
    pulses = []
    for _ in range(n):
        pulses += [pigpio.pulse(1 << STEP, 0, 5), pigpio.pulse(0, 1 << STEP, period_us - 5)]
    pi.wave_add_new()
    pi.wave_add_generic(pulses)
    return pi.wave_create()


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def limit_latency(trials: int) -> None:
    with running_rig(time_scale=1, **STRONG) as rig, pigpio_client(rig) as pi:
        _prepare(pi)
        pi.write(DIR, 0)
        pi.wave_clear()
        wid = _steps_wave(pi, 400, 104)  # 3000 µm/s towards the min switch
        to_callback, to_halt = [], []
        got = threading.Event()
        stamps: dict[str, float] = {}

        def on_trip(gpio: int, level: int, tick: int) -> None:
            if level != 1 or got.is_set():
                return
            stamps["cb"] = time.monotonic()
            pi.wave_tx_stop()
            stamps["halted"] = time.monotonic()
            got.set()

        # One callback for all trips, so the client also sees every release (its cached level stays right).
        pi.callback(LIMIT_MIN, pigpio.EITHER_EDGE, on_trip)
        for _ in range(trials):
            rig.rail.set_position_um(40 * rig.rail.um_per_step)
            time.sleep(0.01)
            rig.rail.reset_counters()
            got.clear()
            pi.wave_send_once(wid)
            if not got.wait(5):
                raise RuntimeError("the limit switch never reached the client")
            at_zero = next(r for r in rig.rail.pulse_log if r.position_steps == 0)
            crossed = rig.clock.monotonic_at(at_zero.emu_us)
            to_callback.append((stamps["cb"] - crossed) * 1e3)
            to_halt.append((stamps["halted"] - crossed) * 1e3)
            time.sleep(0.02)
        print(
            f"limit switch -> client callback: p50 {statistics.median(to_callback):.2f} ms, "
            f"p99 {pct(to_callback, 0.99):.2f} ms, max {max(to_callback):.2f} ms ({trials} trips)"
        )
        print(
            f"limit switch -> WVHLT answered:  p50 {statistics.median(to_halt):.2f} ms, "
            f"p99 {pct(to_halt, 0.99):.2f} ms, max {max(to_halt):.2f} ms"
        )


def idle_cpu() -> None:
    with running_rig() as rig, pigpio_client(rig) as pi:
        pi.callback(LIMIT_MIN)
        pi.callback(STEP)
        time.sleep(0.2)
        c0, t0 = time.process_time(), time.monotonic()
        time.sleep(3.0)
        share = (time.process_time() - c0) / (time.monotonic() - t0) * 100
        print(f"idle CPU (rig + one watching client, same process): {share:.2f} % of one core")


def playback_cost() -> None:
    with running_rig(time_scale=1000, **STRONG) as rig, pigpio_client(rig) as pi:
        rig.rail.set_position_um(0.0)
        _prepare(pi)
        pi.write(DIR, 1)
        pi.wave_clear()
        wid = _steps_wave(pi, 100, 20)
        c0, t0 = time.process_time(), time.monotonic()
        pi.wave_chain([255, 0, 255, 0, wid, 255, 1, 100, 0, 255, 1, 32, 0])
        while pi.wave_tx_busy():
            time.sleep(0.01)
        cpu = time.process_time() - c0
        print(
            f"320 000-step chain at time_scale 1000: {time.monotonic() - t0:.2f} s wall, {cpu:.2f} s CPU, "
            f"{640_000 / cpu / 1e3:.0f} k edges per CPU second; position {rig.rail.true_position_steps}"
        )
    with running_rig(time_scale=1, **STRONG) as rig, pigpio_client(rig) as pi:
        _prepare(pi)
        pi.write(DIR, 1)
        pi.wave_clear()
        wid = _steps_wave(pi, 1000, 104)
        c0, t0 = time.process_time(), time.monotonic()
        pi.wave_chain([255, 0, wid, 255, 1, 20, 0])  # 20 000 steps, about 2 s
        while pi.wave_tx_busy():
            time.sleep(0.01)
        share = (time.process_time() - c0) / (time.monotonic() - t0) * 100
        print(f"real-time move at 9600 steps/s: {share:.0f} % of one core while it runs")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=30)
    args = parser.parse_args()
    limit_latency(args.trials)
    idle_cpu()
    playback_cost()


if __name__ == "__main__":
    main()
