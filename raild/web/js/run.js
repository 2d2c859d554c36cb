// The running stack: progress k/N, ETA, last frame, pause/resume/cancel. Everything
// shown comes from the daemon (status.job and `job` events), so a reload or a screen
// lock loses nothing; the id of the last stack seen is remembered so its final state
// is still shown after a reload.

import { api, apiUrl } from "./api.js";
import { run } from "./actions.js";
import { duration, length, mm } from "./format.js";
import { updateResults } from "./results.js";
import { getState, onJobEvent, subscribe } from "./store.js";

const $ = (id) => document.getElementById(id);
const KEY = "raild.lastJob";
const ACTIVE = new Set(["queued", "running", "pausing", "paused", "cancelling"]);
const RESUMABLE = new Set(["paused", "interrupted", "failed"]);
const BADGE = {
  queued: "busy", running: "busy", pausing: "warn", paused: "warn", cancelling: "warn",
  completed: "ok", cancelled: "warn", failed: "bad", interrupted: "bad",
};

let job = null; // merged view of the stack being shown
let thumbFrame = -1;
let thumbBusy = false;
let fetchedFinal = "";
let jobEvents = 0; // job events seen: tells whether one came while a command was answered
const changeListeners = new Set();

function remember(id) {
  try {
    if (id) localStorage.setItem(KEY, id);
    else localStorage.removeItem(KEY);
  } catch {
    // not remembered across reloads
  }
}

function remembered() {
  try {
    return localStorage.getItem(KEY);
  } catch {
    return null;
  }
}

/** `fn(job)` when the shown stack changes state (the list refreshes on it). */
export function onJobChange(fn) {
  changeListeners.add(fn);
}

function showThumb(id, index) {
  const thumb = $("run-thumb");
  thumb.src = apiUrl(`stacks/${encodeURIComponent(id)}/frames/${index}`);
  thumb.alt = `Last frame taken, number ${index}`;
  thumb.hidden = false;
}

/** After a reload there is no frame event to go by: ask for the frame list once. */
async function refreshThumb() {
  if (!job || thumbBusy || (job.frame ?? 0) <= 0 || job.frame === thumbFrame) return;
  thumbBusy = true;
  const wanted = job.frame;
  const id = job.id;
  try {
    const frames = await api(`stacks/${encodeURIComponent(id)}/frames`);
    // Frames the camera kept on its card have no file here, so no thumbnail.
    const withFile = Array.isArray(frames) ? frames.filter((f) => f.name) : [];
    const last = withFile[withFile.length - 1];
    if (last && job?.id === id) showThumb(id, last.index);
    thumbFrame = wanted;
  } catch {
    // The next frame event tries again.
  } finally {
    thumbBusy = false;
  }
}

function render() {
  const card = $("run-card");
  const mini = $("job-mini");
  if (!job) {
    card.hidden = true;
    mini.hidden = true;
    updateResults(null);
    return;
  }
  card.hidden = false;
  const frames = job.frames ?? 0;
  const frame = Math.min(job.frame ?? 0, frames || Infinity);
  $("run-name").textContent = (job.name || `Stack ${job.id}`) + seriesText(job.series);
  $("run-state").textContent = job.state;
  $("run-state").className = `badge ${BADGE[job.state] || ""}`;
  $("run-frame").textContent = String(frame);
  $("run-frames").textContent = String(frames);
  const progress = $("run-progress");
  progress.max = Math.max(1, frames);
  progress.value = frame;
  progress.setAttribute("aria-valuetext", `frame ${frame} of ${frames}`);
  const active = ACTIVE.has(job.state);
  $("run-eta").textContent = active && job.state !== "paused" ? duration(job.eta_s) : "—";
  const status = getState().status;
  $("run-pos").textContent = status?.position_known ? `${mm(status.position_um)} mm` : "—";
  const warnings = Array.isArray(job.plan?.warnings) ? job.plan.warnings : [];
  $("run-warnings").textContent = warnings.join(" ");
  $("run-warnings").hidden = warnings.length === 0;
  $("run-error").hidden = !job.error;
  $("run-error").textContent = job.error ? String(job.error.message || job.error) : "";
  const plan = job.plan || {};
  const bits = [];
  if (Number.isFinite(plan.step_um)) bits.push(`step ${length(plan.step_um)}`);
  if (Number.isFinite(plan.last_step_um) && Math.abs(plan.last_step_um - plan.step_um) > 0.05) {
    bits.push(`last step ${length(plan.last_step_um)}`);
  }
  if (Number.isFinite(plan.start_um) && Number.isFinite(plan.end_um)) {
    bits.unshift(`${mm(plan.start_um)} → ${mm(plan.end_um)} mm`);
  }
  if (job.series?.of) bits.push(`run ${job.series.run} of ${job.series.of}`);
  $("run-plan").textContent = bits.join(" · ");
  const explain = {
    paused: `Paused at frame ${frame}. STOP pauses a stack; Resume goes on from here, Cancel ends it.`,
    pausing: "Pausing after the current frame…",
    cancelling: "Cancelling…",
    interrupted: "Interrupted: the daemon stopped during this stack. Home the rail, then Resume.",
  }[job.state];
  $("run-explain").textContent = explain || "";
  $("run-explain").hidden = !explain;
  $("run-pause").hidden = !["running", "queued"].includes(job.state);
  $("run-resume").hidden = !RESUMABLE.has(job.state);
  $("run-cancel").hidden = !active && !RESUMABLE.has(job.state);
  $("run-dismiss").hidden = active;
  mini.hidden = !active;
  mini.textContent = active ? `Stack ${frame}/${frames}` : "";
  refreshThumb();
  updateResults(job);
}

function merge(update) {
  if (!update?.id) return;
  const previousState = job?.state;
  if (!job || job.id !== update.id) {
    job = { ...update };
    thumbFrame = -1;
    $("run-thumb").hidden = true;
    remember(update.id);
    if (!update.name) loadFull(update.id);
  } else {
    job = { ...job, ...update };
  }
  render();
  if (previousState !== job.state) for (const fn of changeListeners) fn(job);
}

async function loadFull(id) {
  try {
    merge(await api(`stacks/${encodeURIComponent(id)}`));
  } catch {
    // Deleted or unreachable: the status stream will tell us what is current.
  }
}

function onStatus(state) {
  if (job) render(); // the carriage position shown in the card
  const summary = state.status?.job;
  if (summary?.id) {
    jobEvents += 1;
    merge(summary);
    return;
  }
  // No current job: the one we were showing has ended; fetch its final state once.
  if (job && ACTIVE.has(job.state) && fetchedFinal !== `${job.id}:${job.state}`) {
    fetchedFinal = `${job.id}:${job.state}`;
    loadFull(job.id);
  }
}

/** Show a stack just created by the setup form. */
export function showJob(created) {
  merge(created);
}

/** Pause, resume or cancel. The answer travels apart from the event stream: when an
 *  event came meanwhile (say "cancelled" before the answer's "cancelling"), the answer
 *  may be the older news, so the stack is read again instead of taking it. */
async function command(verb) {
  const id = job.id;
  const seen = jobEvents;
  const answer = await api(`stacks/${encodeURIComponent(id)}/${verb}`, { method: "POST", body: {} });
  if (jobEvents === seen) merge(answer);
  else await loadFull(id);
}

export function initRun() {
  $("run-pause").addEventListener("click", (ev) => run(ev.currentTarget, () => command("pause")));
  $("run-resume").addEventListener("click", (ev) => run(ev.currentTarget, () => command("resume")));
  $("run-cancel").addEventListener("click", (ev) => run(ev.currentTarget, () => command("cancel")));
  $("run-dismiss").addEventListener("click", () => {
    job = null;
    remember(null);
    render();
  });
  onJobEvent((kind, data) => {
    if (kind !== "job" || !data?.id) return;
    jobEvents += 1;
    // `job:state` and `job:frame` events; a frame event's `name` is the frame's file
    // name, so only the job's own fields are taken from it.
    const update = {};
    for (const key of ["id", "state", "frame", "frames", "eta_s", "error", "series"]) {
      if (key in data) update[key] = data[key];
    }
    if (job && job.id !== update.id && !ACTIVE.has(update.state)) return;
    merge(update);
    if (data.kind === "job:frame" && data.name && Number.isInteger(data.index)) {
      showThumb(data.id, data.index);
      thumbFrame = job.frame;
    }
  });
  subscribe((state, patch) => {
    if ("status" in patch) onStatus(state);
  });
}

/** After login: show the stack this phone last watched, even if it has ended. */
export function restoreRun() {
  const last = remembered();
  if (last && !job) loadFull(last);
  onStatus(getState());
}

// A time-lapse run: " · run k of K", and when the next run is due.
function seriesText(series) {
  if (!series || !series.of) return "";
  let text = ` · run ${series.run} of ${series.of}`;
  if (series.state === "active" && series.next_run_at) {
    text += `, next in ${duration((Date.parse(series.next_run_at) - Date.now()) / 1000)}`;
  } else if (series.state === "active" && series.waiting) {
    text += ` (${series.waiting})`;
  } else if (series.state && series.state !== "active") {
    text += ` (series ${series.state})`;
  }
  return text;
}
