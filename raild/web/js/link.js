// The live link to the daemon: one GET /status, then the event stream. When either
// fails it retries with exponential backoff and says so in the banner; when the phone
// wakes (screen unlock, tab shown) or the network returns it reconnects at once, so
// the screen never shows stale state after a lock.

import { ApiError, api, apiUrl } from "./api.js";
import { emitJobEvent, getState, setState } from "./store.js";

// Capped low so the page is back within about a second of the daemon: a restart
// takes seconds, and a few status requests a second cost the Pi nothing.
const MIN_DELAY_MS = 250;
const MAX_DELAY_MS = 1000;
// The stream is quiet while the rig is idle; a cheap status poll notices a dead Wi-Fi
// link that would otherwise keep the EventSource "open" for minutes.
const LIVENESS_MS = 20000;

let source = null;
let attempt = 0;
let retryTimer = 0;
let livenessTimer = 0;
let running = false;
let generation = 0;

function backoffMs() {
  const base = Math.min(MAX_DELAY_MS, MIN_DELAY_MS * 2 ** attempt);
  attempt += 1;
  return Math.round(base * (0.8 + Math.random() * 0.4));
}

function closeSource() {
  if (source) {
    source.close();
    source = null;
  }
  clearInterval(livenessTimer);
}

function scheduleRetry(offline) {
  clearTimeout(retryTimer);
  const delay = backoffMs();
  setState(offline ? { link: "offline", retryAt: Date.now() + delay } : { link: "connecting" });
  retryTimer = setTimeout(connectNow, delay);
}

function parse(ev) {
  try {
    return JSON.parse(ev.data);
  } catch {
    return null;
  }
}

function openSource(gen) {
  const es = new EventSource(apiUrl("events"));
  source = es;
  es.addEventListener("status", (ev) => {
    const status = parse(ev);
    if (!status) return;
    attempt = 0;
    setState({ status, link: "online" });
  });
  es.addEventListener("job", (ev) => emitJobEvent("job", parse(ev)));
  es.addEventListener("fault", (ev) => emitJobEvent("fault", parse(ev)));
  es.addEventListener("controls", (ev) => emitJobEvent("controls", parse(ev)));
  es.addEventListener("error", () => {
    if (source !== es || gen !== generation) return;
    // EventSource would retry on its own, but without backoff and without telling
    // us whether the session or the daemon is gone; a status request finds out.
    closeSource();
    scheduleRetry(false);
  });
  livenessTimer = setInterval(async () => {
    try {
      const status = await api("status", { timeoutMs: 5000 });
      if (gen === generation) setState({ status });
    } catch (err) {
      if (gen === generation && !(err instanceof ApiError)) connectNow();
    }
  }, LIVENESS_MS);
}

/** Re-fetch status and reopen the stream now (no waiting for the backoff). */
export async function connectNow() {
  if (!running) return;
  clearTimeout(retryTimer);
  closeSource();
  const gen = ++generation;
  if (getState().link !== "offline") setState({ link: "connecting" });
  let status;
  try {
    status = await api("status", { timeoutMs: 6000 });
  } catch (err) {
    if (gen !== generation || !running) return;
    if (err instanceof ApiError && err.status === 401) return; // the login screen takes over
    scheduleRetry(true);
    return;
  }
  if (gen !== generation || !running) return;
  setState({ status, link: "online" });
  openSource(gen);
}

function onWake() {
  if (!running) return;
  if (document.visibilityState === "hidden") {
    // A locked phone drops the connection anyway; closing it frees a Pi socket.
    closeSource();
    clearTimeout(retryTimer);
    generation += 1;
    return;
  }
  attempt = 0;
  connectNow();
}

let listening = false;

export function startLink() {
  running = true;
  attempt = 0;
  if (!listening) {
    listening = true;
    document.addEventListener("visibilitychange", onWake);
    window.addEventListener("online", onWake);
    // The phone knows it lost the network before any socket times out: say so now.
    window.addEventListener("offline", () => {
      if (!running) return;
      closeSource();
      generation += 1;
      scheduleRetry(true);
    });
    window.addEventListener("pageshow", (ev) => {
      if (ev.persisted) onWake();
    });
    // Page Lifecycle: a phone that locks its screen may freeze the page instead of
    // hiding it; on thaw the stream may be dead without having said so.
    document.addEventListener("resume", onWake);
  }
  connectNow();
}

export function stopLink() {
  running = false;
  generation += 1;
  clearTimeout(retryTimer);
  closeSource();
}

/** The user pressed "Retry now". */
export function retryNow() {
  attempt = 0;
  connectNow();
}
