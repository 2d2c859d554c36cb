// Stack setup: start/end from the current position, step typed or from the optics
// helper, frame count and time estimate as you type, and the daemon's validation
// messages shown next to the fields they are about.

import { ApiError, api, describeError } from "./api.js";
import { duration, length } from "./format.js";
import { estimateSeconds, planFrames } from "./plan.js";
import { getState, subscribe } from "./store.js";
import { toast } from "./toast.js";

const $ = (id) => document.getElementById(id);
const KEY = "raild.plan";
const FIELDS = ["start_um", "end_um", "step_um", "settle_ms", "shots_per_position", "return_to_start", "stack-name",
  "magnification", "aperture"];
// The daemon runs one stack at a time; these hold the rail and camera (model.py).
const HOLDING_STATES = new Set(["queued", "running", "pausing", "cancelling"]);
const DEFAULT_SETTLE_MS = 500; // config/raild.toml [camera] settle_ms, used when the field is left empty

let onStarted = () => {};

function numberOf(id) {
  const text = $(id).value.trim();
  return text === "" ? NaN : Number(text);
}

function save() {
  const data = {};
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
  const key = String(field || "").split(".").pop();
  const slot = document.querySelector(`#plan-form [data-error-for="${CSS.escape(key)}"]`);
  if (!slot) return false;
  slot.textContent = slot.textContent ? `${slot.textContent}; ${message}` : message;
  slot.hidden = false;
  const input = $(key === "name" ? "stack-name" : key);
  input?.setAttribute("aria-invalid", "true");
  return true;
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
    $("plan-error").textContent = describeError(err);
    $("plan-error").hidden = false;
  }
}

/** The rail's microstep, read off the status (position in µm over position in steps). */
function umPerStep(status) {
  const steps = status?.position_steps;
  return Number.isInteger(steps) && steps !== 0 && Number.isFinite(status.position_um)
    ? Math.abs(status.position_um / steps)
    : NaN;
}

export function updateSummary() {
  const startUm = numberOf("start_um");
  const endUm = numberOf("end_um");
  const stepUm = numberOf("step_um");
  const shotsTyped = numberOf("shots_per_position");
  const shots = Number.isInteger(shotsTyped) && shotsTyped >= 1 ? shotsTyped : 1;
  const status = getState().status;
  const plan = planFrames(startUm, endUm, stepUm, shots, umPerStep(status));
  const out = $("plan-summary");
  if (plan.error) {
    out.textContent = `To see the frame count: ${plan.error}.`;
    delete out.dataset.frames;
    return plan;
  }
  const settle = numberOf("settle_ms");
  const seconds = estimateSeconds({
    startUm, endUm, stepUm, positions: plan.positions, shots,
    settleMs: Number.isFinite(settle) && settle >= 0 ? settle : DEFAULT_SETTLE_MS,
    returnToStart: $("return_to_start").checked,
    fromUm: status?.position_known ? status.position_um : NaN,
    backend: status?.camera?.backend,
  });
  const where = shots > 1 ? ` at ${plan.positions} positions` : "";
  out.textContent = `${plan.frames} frames${where} over ${length(plan.distanceUm)} · about ${duration(seconds)}`;
  out.dataset.frames = String(plan.frames);
  return plan;
}

function setHere(field) {
  const s = getState().status;
  if (!s?.position_known || !Number.isFinite(s.position_um)) {
    toast("The position is unknown: home or zero the rail first.", { bad: true });
    return;
  }
  $(field).value = String(Math.round(s.position_um * 10) / 10);
  clearErrors();
  save();
  updateSummary();
}

async function opticsStep() {
  const m = numberOf("magnification");
  const n = numberOf("aperture");
  const out = $("optics-result");
  try {
    const query = new URLSearchParams({ magnification: String(m), aperture: String(n) });
    const r = await api(`optics/step?${query}`);
    $("step_um").value = String(Math.round(r.step_um * 10) / 10);
    out.textContent = `Depth of field ${length(r.dof_um)}; step ${length(r.step_um)} (with overlap).`;
    clearErrors();
    save();
    updateSummary();
  } catch (err) {
    out.textContent = describeError(err);
  }
}

function requestBody() {
  const body = {
    start_um: numberOf("start_um"),
    end_um: numberOf("end_um"),
    step_um: numberOf("step_um"),
    shots_per_position: numberOf("shots_per_position"),
    return_to_start: $("return_to_start").checked,
  };
  const settle = numberOf("settle_ms");
  if (Number.isFinite(settle)) body.settle_ms = settle;
  const name = $("stack-name").value.trim();
  if (name) body.name = name;
  // An empty box is sent as null so the daemon names the field that is missing.
  for (const k of ["start_um", "end_um", "step_um", "shots_per_position"]) {
    if (!Number.isFinite(body[k])) body[k] = null;
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

export function initPlanForm({ started }) {
  onStarted = started;
  restore();
  const form = $("plan-form");
  form.addEventListener("input", () => {
    save();
    updateSummary();
  });
  form.addEventListener("submit", submit);
  $("set-start").addEventListener("click", () => setHere("start_um"));
  $("set-end").addEventListener("click", () => setHere("end_um"));
  $("optics-use").addEventListener("click", opticsStep);
  $("settle_ms").placeholder = "daemon default";
  subscribe((state, patch) => {
    if (!("status" in patch)) return;
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
