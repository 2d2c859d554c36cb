// Stack setup: start/end/distance in µm or mm, marked from the bench or typed; the step
// typed, from the optics helper, or following from a frame count typed instead; shots,
// settle, shot interval, time-lapse repeat; presets. The summary (frames, step used,
// last step, time, disk space) updates as you type, and the daemon's validation
// messages are shown next to the fields they are about.

import { ApiError, api } from "./api.js";
import { duration, length } from "./format.js";
import { estimateSeconds, planFrames } from "./plan.js";
import { human } from "./say.js";
import { getState, subscribe } from "./store.js";
import { toast } from "./toast.js";

const $ = (id) => document.getElementById(id);
const KEY = "raild.plan";
const FIELDS = ["start_um", "end_um", "step_um", "frames", "settle_ms", "shots_per_position", "shot_interval_ms",
  "return_to_start", "stack-name", "magnification", "aperture", "coc", "overlap", "repeat_on", "repeat_count",
  "repeat_interval_s", "distance", "from_here"];
const LENGTHS = ["start_um", "end_um", "distance"];
// The daemon runs one stack at a time; these hold the rail and camera (model.py).
const HOLDING_STATES = new Set(["queued", "running", "pausing", "cancelling"]);
const DEFAULT_SETTLE_MS = 500; // config/raild.toml [camera] settle_ms, used when the field is left empty

let onStarted = () => {};
let unit = "um"; // of start, end and distance
let drive = "step"; // which of step and frames the user typed; the other follows
let frameBytes = NaN; // mean size of a frame of the last stack: the disk estimate
const changeListeners = new Set();

function numberOf(id) {
  const text = $(id).value.trim();
  return text === "" ? NaN : Number(text);
}

const factor = () => (unit === "mm" ? 1000 : 1);

/** A length field in µm whatever unit it is shown in. */
function lengthUm(id) {
  return numberOf(id) * factor();
}

function showLength(id, valueUm) {
  if (!Number.isFinite(valueUm)) {
    $(id).value = "";
    return;
  }
  // 0.1 µm either way: finer than any rail's microstep, and no float noise shown.
  $(id).value = String(unit === "mm" ? Number((valueUm / 1000).toFixed(4)) : Math.round(valueUm * 10) / 10);
}

function save() {
  const data = { unit, drive };
  for (const id of FIELDS) {
    const el = $(id);
    data[id] = el.type === "checkbox" ? el.checked : el.value;
  }
  try {
    localStorage.setItem(KEY, JSON.stringify(data));
  } catch {
    // not remembered across reloads
  }
}

function restore() {
  let data = null;
  try {
    data = JSON.parse(localStorage.getItem(KEY) || "null");
  } catch {
    data = null;
  }
  if (!data) return;
  for (const id of FIELDS) {
    if (!(id in data)) continue;
    const el = $(id);
    if (el.type === "checkbox") el.checked = Boolean(data[id]);
    else el.value = data[id];
  }
  if (data.unit === "mm" || data.unit === "um") unit = data.unit;
  if (data.drive === "frames" || data.drive === "step") drive = data.drive;
}

function showUnit() {
  for (const el of document.querySelectorAll("#plan-form .u")) el.textContent = unit === "mm" ? "mm" : "µm";
  const radio = document.querySelector(`input[name="plan-unit"][value="${unit}"]`);
  if (radio) radio.checked = true;
}

function clearErrors() {
  for (const el of document.querySelectorAll("#plan-form .field-error")) {
    el.hidden = true;
    el.textContent = "";
  }
  for (const el of document.querySelectorAll("#plan-form [aria-invalid]")) el.removeAttribute("aria-invalid");
  $("plan-error").hidden = true;
}

function fieldError(field, message) {
  const parts = String(field || "").split(".");
  for (const key of [parts[parts.length - 1], parts[0]]) {
    const slot = document.querySelector(`#plan-form [data-error-for="${CSS.escape(key)}"]`);
    if (!slot) continue;
    slot.textContent = slot.textContent ? `${slot.textContent}; ${message}` : message;
    slot.hidden = false;
    const input = key === "name" ? $("stack-name") : key === "repeat" ? $("repeat_count") : $(key);
    input?.setAttribute("aria-invalid", "true");
    slot.closest("details")?.setAttribute("open", "");
    return true;
  }
  return false;
}

/** Put each of the problem's `errors[]` next to its field; the rest goes under the form. */
function showProblem(err) {
  const problem = err instanceof ApiError ? err.problem : {};
  const errors = Array.isArray(problem.errors) ? problem.errors : [];
  if (problem.field) errors.push({ field: problem.field, message: problem.detail });
  let placed = 0;
  for (const e of errors) {
    if (fieldError(e.field, e.message || e.msg || problem.detail)) placed += 1;
  }
  if (placed === 0 || placed < errors.length) {
    $("plan-error").textContent = human(err);
    $("plan-error").hidden = false;
  }
  const first = document.querySelector("#plan-form .field-error:not([hidden]), #plan-error:not([hidden])");
  first?.scrollIntoView({ block: "center", behavior: "smooth" });
}

/** The rail's microstep, read off the status (position in µm over position in steps). */
function umPerStep(status) {
  const steps = status?.position_steps;
  return Number.isInteger(steps) && steps !== 0 && Number.isFinite(status.position_um)
    ? Math.abs(status.position_um / steps)
    : NaN;
}

function startError() {
  return fromHere() ? "the rail's position is unknown: home or zero it first" : "set a start position";
}

function shotsEach() {
  const typed = numberOf("shots_per_position");
  return Number.isInteger(typed) && typed >= 1 ? typed : 1;
}

/** The plan as the form stands: positions, step used, last step; or {error, field}. */
/** "Distance from here": the stack starts at the carriage, wherever it is. */
const fromHere = () => $("from_here").checked;

function bounds() {
  if (!fromHere()) return { startUm: lengthUm("start_um"), endUm: lengthUm("end_um") };
  const s = getState().status;
  const hereUm = s?.position_known && Number.isFinite(s.position_um) ? s.position_um : NaN;
  return { startUm: hereUm, endUm: hereUm + lengthUm("distance") };
}

export function currentPlan() {
  const { startUm, endUm } = bounds();
  const shots = shotsEach();
  if (drive === "frames") {
    const n = numberOf("frames");
    if (!Number.isFinite(startUm)) return { error: startError(), startUm, endUm };
    if (!Number.isFinite(endUm)) return { error: "set an end position", startUm, endUm };
    if (!Number.isInteger(n) || n < 1) return { error: "the frame count must be a whole number from 1", startUm, endUm };
    const distanceUm = Math.abs(endUm - startUm);
    const stepUm = n > 1 ? distanceUm / (n - 1) : distanceUm;
    return { startUm, endUm, distanceUm, positions: n, frames: n * shots, stepUm, lastStepUm: stepUm, shots };
  }
  const stepUm = numberOf("step_um");
  const plan = planFrames(startUm, endUm, stepUm, shots, umPerStep(getState().status));
  if (plan.error && fromHere() && plan.field === "start_um") return { ...plan, error: startError(), startUm, endUm };
  if (plan.error) return { ...plan, startUm, endUm };
  const lastStepUm = plan.positions > 1 ? plan.distanceUm - (plan.positions - 2) * stepUm : 0;
  return { ...plan, startUm, endUm, stepUm, lastStepUm, shots };
}

function megabytes(bytes) {
  if (!Number.isFinite(bytes)) return "";
  return bytes >= 1e9 ? `${(bytes / 1e9).toFixed(1)} GB` : `${Math.max(0.1, bytes / 1e6).toFixed(1)} MB`;
}

export function updateSummary() {
  const plan = currentPlan();
  const out = $("plan-summary");
  const detail = $("plan-detail");
  if (plan.error) {
    for (const fn of changeListeners) fn(plan);
    out.textContent = `To see the frame count: ${plan.error}.`;
    detail.textContent = "";
    delete out.dataset.frames;
    return plan;
  }
  // The field that follows the other shows the figure it follows with.
  if (drive === "step" && document.activeElement !== $("frames")) $("frames").value = String(plan.positions);
  if (drive === "frames" && document.activeElement !== $("step_um")) {
    $("step_um").value = String(Math.round(plan.stepUm * 10) / 10);
  }
  if (document.activeElement !== $("distance") && !fromHere()) showLength("distance", plan.endUm - plan.startUm);
  const status = getState().status;
  const settle = numberOf("settle_ms");
  const interval = numberOf("shot_interval_ms");
  const seconds = estimateSeconds({
    startUm: plan.startUm, endUm: plan.endUm, stepUm: plan.stepUm, positions: plan.positions, shots: plan.shots,
    settleMs: Number.isFinite(settle) && settle >= 0 ? settle : DEFAULT_SETTLE_MS,
    shotIntervalMs: Number.isFinite(interval) && interval >= 0 ? interval : 0,
    returnToStart: $("return_to_start").checked,
    fromUm: status?.position_known ? status.position_um : NaN,
    backend: status?.camera?.backend,
  });
  plan.seconds = seconds;
  for (const fn of changeListeners) fn(plan);
  const where = plan.shots > 1 ? ` at ${plan.positions} positions` : "";
  out.textContent = `${plan.frames} frames${where} over ${length(plan.distanceUm)} · about ${duration(seconds)}`;
  out.dataset.frames = String(plan.frames);
  const parts = [`Step ${length(plan.stepUm)}`];
  if (plan.positions > 2 && Math.abs(plan.lastStepUm - plan.stepUm) > 0.05) {
    parts.push(`last step ${length(plan.lastStepUm)}`);
  }
  parts.push(Number.isFinite(frameBytes)
    ? `about ${megabytes(frameBytes * plan.frames)} on disk`
    : "disk use known after a first stack");
  if ($("repeat_on").checked) {
    const runs = numberOf("repeat_count");
    if (Number.isInteger(runs)) parts.push(`${runs} runs every ${duration(numberOf("repeat_interval_s"))}`);
  }
  detail.textContent = parts.join(" · ");
  return plan;
}

/** `fn(plan)` whenever the plan changes (the bench shows a one-line summary). */
export function onPlanChange(fn) {
  changeListeners.add(fn);
}

/** Start and end in µm (NaN when not set). */
export function planBounds() {
  return { startUm: lengthUm("start_um"), endUm: lengthUm("end_um") };
}

/** Mark start or end at the current position; returns false with a reason when unknown. */
export function markHere(field) {
  const s = getState().status;
  if (!s?.position_known || !Number.isFinite(s.position_um)) {
    return "The position is unknown: home or zero the rail first.";
  }
  showLength(field, s.position_um);
  $("from_here").checked = false;
  showFromHere();
  clearErrors();
  save();
  updateSummary();
  return "";
}

/** Fill start, end and step from a suggestion (coverage check, focus scan). */
export function applySuggestion({ start_um: startUm, end_um: endUm, step_um: stepUm }) {
  if (Number.isFinite(startUm)) showLength("start_um", startUm);
  if (Number.isFinite(endUm)) showLength("end_um", endUm);
  if (Number.isFinite(stepUm)) {
    $("step_um").value = String(Math.round(stepUm * 10) / 10);
    drive = "step";
  }
  clearErrors();
  save();
  updateSummary();
}

function setHere(field) {
  const why = markHere(field);
  if (why) toast(why, { bad: true });
}

async function opticsStep() {
  const out = $("optics-result");
  const query = new URLSearchParams({ magnification: $("magnification").value, aperture: $("aperture").value });
  if ($("coc").value) query.set("coc_um", $("coc").value);
  const overlap = numberOf("overlap");
  if (Number.isFinite(overlap)) query.set("overlap", String(overlap / 100));
  try {
    const r = await api(`optics/step?${query}`);
    $("step_um").value = String(Math.round(r.step_um * 10) / 10);
    drive = "step";
    out.textContent = `Depth of field ${length(r.dof_um)}; step ${length(r.step_um)} (with overlap).`;
    clearErrors();
    save();
    updateSummary();
  } catch (err) {
    out.textContent = human(err);
  }
}

/** Step and timing fields, as a preset holds them (no start or end). */
export function settingsBody() {
  const body = { shots_per_position: numberOf("shots_per_position"), return_to_start: $("return_to_start").checked };
  if (drive === "frames") body.frames = numberOf("frames");
  else body.step_um = numberOf("step_um");
  for (const k of ["settle_ms", "shot_interval_ms"]) {
    const v = numberOf(k);
    if (Number.isFinite(v)) body[k] = v;
  }
  for (const [k, v] of Object.entries(body)) if (typeof v === "number" && !Number.isFinite(v)) delete body[k];
  return body;
}

/** Fill the step and timing fields from a preset. */
export function applySettings(preset) {
  if (Number.isFinite(preset.step_um)) {
    $("step_um").value = String(preset.step_um);
    drive = "step";
  } else if (Number.isInteger(preset.frames)) {
    $("frames").value = String(preset.frames);
    drive = "frames";
  }
  for (const k of ["settle_ms", "shots_per_position", "shot_interval_ms"]) {
    if (Number.isFinite(preset[k])) $(k).value = String(preset[k]);
  }
  if (typeof preset.return_to_start === "boolean") $("return_to_start").checked = preset.return_to_start;
  clearErrors();
  save();
  updateSummary();
}

function requestBody() {
  const body = {
    start_um: lengthUm("start_um"),
    end_um: lengthUm("end_um"),
    shots_per_position: numberOf("shots_per_position"),
    return_to_start: $("return_to_start").checked,
  };
  if (fromHere()) {
    const d = lengthUm("distance");
    delete body.start_um;
    delete body.end_um;
    body.distance_um = Number.isFinite(d) ? Math.abs(d) : null;
    body.direction = d < 0 ? "-" : "+";
  }
  if (drive === "frames") body.frames = numberOf("frames");
  else body.step_um = numberOf("step_um");
  for (const k of ["settle_ms", "shot_interval_ms"]) {
    const v = numberOf(k);
    if (Number.isFinite(v)) body[k] = v;
  }
  const name = $("stack-name").value.trim();
  if (name) body.name = name;
  if ($("repeat_on").checked) {
    body.repeat = { count: numberOf("repeat_count"), interval_s: numberOf("repeat_interval_s") };
  }
  // An empty box is sent as null so the daemon names the field that is missing.
  for (const k of ["start_um", "end_um", "step_um", "frames", "shots_per_position", "distance_um"]) {
    if (k in body && !Number.isFinite(body[k])) body[k] = null;
  }
  return body;
}

async function submit(ev) {
  ev.preventDefault();
  clearErrors();
  const button = $("plan-submit");
  button.disabled = true;
  try {
    const job = await api("stacks", { method: "POST", body: requestBody() });
    toast("Stack started");
    onStarted(job);
  } catch (err) {
    showProblem(err);
  } finally {
    button.disabled = button.dataset.busy === "true";
  }
}

/** The mean frame size of the newest stack with frames on disk, for the disk estimate. */
export async function learnFrameSize() {
  if (Number.isFinite(frameBytes)) return;
  try {
    const stacks = await api("stacks");
    const list = Array.isArray(stacks) ? stacks : [];
    const done = list.find((s) => (s.frame ?? 0) > 0);
    if (!done) return;
    const frames = await api(`stacks/${encodeURIComponent(done.id)}/frames`);
    const sizes = (Array.isArray(frames) ? frames : []).map((f) => f.size).filter((n) => Number.isFinite(n) && n > 0);
    if (sizes.length) {
      frameBytes = sizes.reduce((a, b) => a + b, 0) / sizes.length;
      updateSummary();
    }
  } catch {
    // the estimate says it is unknown
  }
}

function onInput(ev) {
  const id = ev.target?.id;
  if (id === "step_um") drive = "step";
  if (id === "frames") drive = "frames";
  if (id === "from_here") showFromHere();
  if (id === "distance" && !fromHere()) {
    const startUm = lengthUm("start_um");
    const d = lengthUm("distance");
    if (Number.isFinite(startUm) && Number.isFinite(d)) showLength("end_um", startUm + d);
  }
  save();
  updateSummary();
}

/** Start and end are not used when the stack starts from the carriage. */
function showFromHere() {
  for (const id of ["start_um", "end_um", "set-start", "set-end"]) $(id).disabled = fromHere();
}

export function initPlanForm({ started }) {
  onStarted = started;
  restore();
  showUnit();
  showFromHere();
  const form = $("plan-form");
  form.addEventListener("input", onInput);
  form.addEventListener("change", (ev) => {
    if (ev.target?.name !== "plan-unit") return;
    const values = LENGTHS.map(lengthUm);
    unit = ev.target.value === "mm" ? "mm" : "um";
    LENGTHS.forEach((id, i) => showLength(id, values[i]));
    showUnit();
    save();
    updateSummary();
  });
  form.addEventListener("submit", submit);
  $("set-start").addEventListener("click", () => setHere("start_um"));
  $("set-end").addEventListener("click", () => setHere("end_um"));
  $("optics-use").addEventListener("click", opticsStep);
  $("settle_ms").placeholder = "daemon default";
  $("shot_interval_ms").placeholder = "daemon default";
  let lastHereUm = NaN;
  subscribe((state, patch) => {
    if (!("status" in patch)) return;
    const hereUm = state.status?.position_known ? state.status.position_um : NaN;
    if (fromHere() && state.status?.state !== "moving" && !Object.is(hereUm, lastHereUm)) {
      lastHereUm = hereUm;
      updateSummary();
    }
    const busy = HOLDING_STATES.has(state.status?.job?.state);
    const button = $("plan-submit");
    if (button.dataset.busy !== String(busy)) {
      button.dataset.busy = String(busy);
      button.disabled = busy;
      button.textContent = busy ? "A stack is running" : "Start stack";
    }
  });
  updateSummary();
}
