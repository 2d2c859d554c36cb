// Pure stack-plan arithmetic for the setup form: frame count and a time estimate that
// update as the user types. It mirrors raild/stacks (plan.py, estimate.py) with the
// default rail settings; the daemon validates the plan on submit, and its running ETA
// replaces this estimate once the stack starts.

/** Motion defaults of config/raild.toml; the UI has no endpoint for the rail's config. */
export const DEFAULT_MOTION = Object.freeze({
  maxSpeedUmS: 3000,
  startSpeedUmS: 100,
  accelUmS2: 20000,
  backlashUm: 100,
  approachSign: 1,
});

/** Seconds per shot by camera backend with the default camera settings (estimate.py). */
const SHOT_S = Object.freeze({ sim: 0.15, gpio: 0.3, gphoto2: 0.9 });

export function shotSeconds(backend) {
  return SHOT_S[backend] ?? SHOT_S.gphoto2;
}

/**
 * Positions for a start/end/step plan: start, start ± step, ... and the end itself,
 * so the last interval may be shorter than the step but never longer. Every position
 * is shot `shots` times, and the daemon counts frames as positions × shots.
 * With `umPerStep` (the rail's microstep) it counts exactly as the daemon does, on
 * whole microsteps; without it, in µm, which can differ by one position at most.
 * Returns {positions, frames, distanceUm} or {error, field}.
 */
export function planFrames(startUm, endUm, stepUm, shots = 1, umPerStep = NaN) {
  if (!Number.isFinite(startUm)) return { error: "set a start position", field: "start_um" };
  if (!Number.isFinite(endUm)) return { error: "set an end position", field: "end_um" };
  if (!Number.isFinite(stepUm) || stepUm <= 0) return { error: "the step must be more than 0 µm", field: "step_um" };
  const perPosition = Number.isInteger(shots) && shots >= 1 ? shots : 1;
  const distanceUm = Math.abs(endUm - startUm);
  const positions = Number.isFinite(umPerStep) && umPerStep > 0
    ? positionsOnMicrosteps(startUm, endUm, stepUm, umPerStep)
    : positionsInUm(distanceUm, stepUm);
  return { positions, frames: positions * perPosition, distanceUm };
}

// The tolerance keeps 1000/100 at 10 intervals despite floating-point division.
const EPS = 1e-9;

function positionsInUm(distanceUm, stepUm) {
  if (distanceUm === 0) return 1;
  return Math.max(1, Math.ceil(distanceUm / stepUm - EPS)) + 1;
}

/** raild/stacks/plan.py: whole-microstep offsets; a last one under half a step merges. */
function positionsOnMicrosteps(startUm, endUm, stepUm, umPerStep) {
  const distanceSteps = Math.abs(Math.round(endUm / umPerStep) - Math.round(startUm / umPerStep));
  if (distanceSteps === 0) return 1;
  const stepSteps = stepUm / umPerStep;
  const intervals = Math.max(1, Math.ceil(distanceSteps / stepSteps - EPS));
  const lastWhole = Math.round((intervals - 1) * stepSteps);
  return lastWhole < distanceSteps || intervals === 1 ? intervals + 1 : intervals;
}

/** Time of a trapezoidal (or triangular) move over `distanceUm`, in seconds. */
export function moveSeconds(distanceUm, motion = DEFAULT_MOTION) {
  const d = Math.abs(distanceUm);
  if (d === 0) return 0;
  const { maxSpeedUmS: vmax, startSpeedUmS: v0, accelUmS2: a } = motion;
  const rampUm = (vmax * vmax - v0 * v0) / (2 * a);
  if (2 * rampUm <= d) return (2 * (vmax - v0)) / a + (d - 2 * rampUm) / vmax;
  const vPeak = Math.sqrt(v0 * v0 + a * d);
  return (2 * (vPeak - v0)) / a;
}

/** A move that ends approaching from the backlash side: one leg, or overshoot and back. */
export function approachSeconds(deltaUm, motion = DEFAULT_MOTION) {
  if (deltaUm === 0) return 0;
  if (motion.backlashUm === 0 || (deltaUm > 0) === (motion.approachSign > 0)) return moveSeconds(deltaUm, motion);
  return moveSeconds(Math.abs(deltaUm) + motion.backlashUm, motion) + moveSeconds(motion.backlashUm, motion);
}

/**
 * Seconds for the whole stack: reach the start, then per position settle and shoot,
 * step between positions, and optionally return to the start.
 */
export function estimateSeconds({
  startUm, endUm, stepUm, positions, settleMs, shots, returnToStart, fromUm, backend, motion = DEFAULT_MOTION,
  shotIntervalMs = 0,
}) {
  const sign = endUm >= startUm ? 1 : -1;
  const distanceUm = Math.abs(endUm - startUm);
  const reach = Number.isFinite(fromUm) ? approachSeconds(startUm - fromUm, motion) : 0;
  const perPosition = settleMs / 1000 + shots * shotSeconds(backend) + (Math.max(0, shots - 1) * shotIntervalMs) / 1000;
  // Whole steps, then a last interval that reaches the end exactly (maybe shorter).
  const whole = Math.max(0, positions - 2);
  const lastUm = positions > 1 ? distanceUm - whole * stepUm : 0;
  const stepping = whole * approachSeconds(sign * stepUm, motion) + approachSeconds(sign * lastUm, motion);
  const back = returnToStart ? approachSeconds(startUm - endUm, motion) : 0;
  return reach + positions * perPosition + stepping + back;
}
