// Pure stack-plan arithmetic for the setup form: frame count and a time estimate that
// update as the user types. The daemon validates the plan on submit and its running
// ETA replaces this estimate once the stack starts.

/** Motion defaults of config/raild.toml; the UI has no endpoint for the rail's speed. */
export const DEFAULT_MOTION = Object.freeze({
  maxSpeedUmS: 3000,
  startSpeedUmS: 100,
  accelUmS2: 20000,
});

/** Rough seconds per shot by camera backend: trigger, exposure and confirmation. */
const SHOT_S = Object.freeze({ sim: 0.25, gpio: 0.35, gphoto2: 1.5 });

export function shotSeconds(backend) {
  return SHOT_S[backend] ?? 1.5;
}

/**
 * Frames for a start/end/step plan: the positions start, start ± step, ... and the
 * end itself, so the last interval may be shorter than the step but never longer.
 * Returns {frames, distanceUm} or {error, field}.
 */
export function planFrames(startUm, endUm, stepUm) {
  if (!Number.isFinite(startUm)) return { error: "set a start position", field: "start_um" };
  if (!Number.isFinite(endUm)) return { error: "set an end position", field: "end_um" };
  if (!Number.isFinite(stepUm) || stepUm <= 0) return { error: "the step must be more than 0 µm", field: "step_um" };
  const distanceUm = Math.abs(endUm - startUm);
  // The tolerance keeps 1000/100 at 11 frames despite floating-point division.
  const intervals = Math.ceil(distanceUm / stepUm - 1e-9);
  return { frames: Math.max(1, intervals + 1), distanceUm };
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

/**
 * Seconds for the whole stack: reach the start, then per frame settle and shoot,
 * step between frames, and optionally return to the start.
 */
export function estimateSeconds({
  startUm, endUm, stepUm, frames, settleMs, shots, returnToStart, fromUm, backend, motion = DEFAULT_MOTION,
}) {
  const step = Math.min(stepUm, Math.abs(endUm - startUm) || stepUm);
  const reach = Number.isFinite(fromUm) ? moveSeconds(fromUm - startUm, motion) : 0;
  const perFrame = settleMs / 1000 + shots * shotSeconds(backend);
  const stepping = (frames - 1) * moveSeconds(step, motion);
  const back = returnToStart ? moveSeconds(endUm - startUm, motion) : 0;
  return reach + frames * perFrame + stepping + back;
}
