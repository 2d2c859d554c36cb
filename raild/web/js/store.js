// One small observable state object shared by the views. The daemon is the source of
// truth; this only holds the latest copy it sent (status, link state).

const state = {
  /** The last GET /status document (API.md), or null before the first one. */
  status: null,
  /** "connecting" | "online" | "offline" | "unauthorized" */
  link: "connecting",
  /** When link is "offline": the time (ms since epoch) of the next attempt. */
  retryAt: 0,
  /** Whether the user is logged in (session cookie accepted). */
  authed: false,
};

const listeners = new Set();

export function getState() {
  return state;
}

export function setState(patch) {
  Object.assign(state, patch);
  for (const fn of listeners) fn(state, patch);
}

/** `fn(state, patch)` on every change; returns an unsubscribe function. */
export function subscribe(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

const jobListeners = new Set();

/** `job` and `fault` events from the event stream, passed through as they come. */
export function onJobEvent(fn) {
  jobListeners.add(fn);
}

export function emitJobEvent(kind, data) {
  for (const fn of jobListeners) fn(kind, data);
}
