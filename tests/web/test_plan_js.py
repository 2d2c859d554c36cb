"""The setup form's frame count and estimate (web/js/plan.js) agree with the daemon's
own plan and estimate (raild.stacks), run in the browser on the same inputs."""

from __future__ import annotations

import random
from typing import Any

import pytest
from playwright.sync_api import Page

from raild.config import Config
from raild.stacks.errors import InvalidPlan
from raild.stacks.estimate import capture_time_ms, stack_time_s
from raild.stacks.geometry import RailGeometry
from raild.stacks.plan import build_plan
from raild.stacks.request import parse_request

from .helpers import DaemonProcess

pytestmark = pytest.mark.browser

STEPS_UM = (1.0, 2.5, 5.0, 10.0, 25.0, 50.0, 100.0, 150.0, 333.0, 1000.0)


def _cases(count: int) -> list[dict[str, Any]]:
    """Ends marked with "set here" land on whole microsteps; steps are typed numbers."""
    rng = random.Random(7)
    um_per_step = Config().rail.um_per_step
    cases = []
    while len(cases) < count:
        start_steps = rng.randint(100, 300_000)
        end_steps = start_steps + rng.choice((-1, 1)) * rng.randint(1, 20_000)
        if not 100 <= end_steps <= 300_000:
            continue
        case = {
            "start_um": round(start_steps * um_per_step, 4),
            "end_um": round(end_steps * um_per_step, 4),
            "step_um": rng.choice(STEPS_UM),
            "shots": rng.choice((1, 1, 2, 3)),
            "settle_ms": rng.choice((0, 200, 500)),
            "return_to_start": rng.random() < 0.5,
        }
        try:
            case["daemon"] = _daemon_figures(case)
        except InvalidPlan:
            continue  # more than the daemon's frame limit: the form shows the 422
        cases.append(case)
    return cases


def _daemon_figures(case: dict[str, Any]) -> tuple[int, int, float]:
    config = Config()
    geo = RailGeometry.from_config(config.rail)
    req = parse_request(
        {
            "start_um": case["start_um"],
            "end_um": case["end_um"],
            "step_um": case["step_um"],
            "shots_per_position": case["shots"],
            "settle_ms": case["settle_ms"],
            "return_to_start": case["return_to_start"],
        },
        default_settle_ms=config.camera.settle_ms,
        default_shot_interval_ms=0,
    )
    plan = build_plan(req, geo)
    return plan.positions, plan.frames, stack_time_s(plan, geo, capture_time_ms(config))


_PLAN_JS = """
async ([cases, umPerStep]) => {
  const plan = await import('./js/plan.js');
  return cases.map((c) => {
    const p = plan.planFrames(c.start_um, c.end_um, c.step_um, c.shots, umPerStep);
    const s = plan.estimateSeconds({startUm: c.start_um, endUm: c.end_um, stepUm: c.step_um,
      positions: p.positions, settleMs: c.settle_ms, shots: c.shots,
      returnToStart: c.return_to_start, fromUm: NaN, backend: 'sim'});
    return [p.positions, p.frames, s];
  });
}
"""


def test_frame_count_and_estimate_match_the_daemon(page: Page, daemon: DaemonProcess) -> None:
    page.goto(daemon.url, wait_until="domcontentloaded")  # the module is served by the daemon
    cases = _cases(300)
    got = page.evaluate(_PLAN_JS, [cases, Config().rail.um_per_step])
    mismatched = []
    for case, (positions, frames, seconds) in zip(cases, got, strict=True):
        want_positions, want_frames, want_s = case["daemon"]
        if (positions, frames) != (want_positions, want_frames):
            mismatched.append((case, positions, want_positions))
        # The same trapezoids and timings; microstep rounding moves it a hair.
        assert seconds == pytest.approx(want_s, rel=0.01, abs=0.02), case
    assert not mismatched, f"{len(mismatched)} of {len(cases)} frame counts differ: {mismatched[:3]}"


def test_without_the_microstep_the_count_is_at_most_one_off(page: Page, daemon: DaemonProcess) -> None:
    page.goto(daemon.url, wait_until="domcontentloaded")
    cases = _cases(100)
    got = page.evaluate(_PLAN_JS, [cases, None])
    for case, (positions, _, _) in zip(cases, got, strict=True):
        assert 0 <= positions - case["daemon"][0] <= 1, case


def test_bad_input_names_the_field(page: Page, daemon: DaemonProcess) -> None:
    page.goto(daemon.url, wait_until="domcontentloaded")
    got = page.evaluate("""async () => {
      const plan = await import('./js/plan.js');
      return [plan.planFrames(NaN, 10, 1), plan.planFrames(0, NaN, 1),
              plan.planFrames(0, 10, 0), plan.planFrames(0, 10, -3), plan.planFrames(5, 5, 1)];
    }""")
    assert [g.get("field") for g in got[:4]] == ["start_um", "end_um", "step_um", "step_um"]
    assert got[4] == {"positions": 1, "frames": 1, "distanceUm": 0}
