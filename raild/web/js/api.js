// HTTP access to the raild API. Relative URLs, so the UI also works behind a proxy
// that mounts the daemon under a sub-path. Errors are problem+json documents.

const BASE = new URL("api/v1/", document.baseURI);

/** The daemon answered with an error status; `problem` is its problem+json body. */
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem || {};
  }
}

/** No answer at all: the daemon is down, restarting, or the Wi-Fi is gone. */
export class Unreachable extends Error {}

const unauthorizedListeners = new Set();

/** Called when any request other than the login itself gets 401 (session gone). */
export function onUnauthorized(fn) {
  unauthorizedListeners.add(fn);
}

export function apiUrl(path) {
  return new URL(path, BASE).href;
}

const SAFE_METHODS = new Set(["GET", "HEAD"]);

/**
 * Call the API with the session cookie. State-changing requests carry the
 * `X-Requested-With: raild` header the daemon requires of cookie sessions (CSRF guard).
 * Resolves to parsed JSON, null for 204, or the Response for other content types.
 */
export async function api(path, { method = "GET", body, timeoutMs = 15000 } = {}) {
  const headers = { Accept: "application/json, application/problem+json" };
  if (!SAFE_METHODS.has(method)) headers["X-Requested-With"] = "raild";
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  let res;
  try {
    res = await fetch(apiUrl(path), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
      cache: "no-store",
      signal: abort.signal,
    });
  } catch (err) {
    throw new Unreachable(err?.name === "AbortError" ? "the daemon did not answer in time" : "the daemon is unreachable");
  } finally {
    clearTimeout(timer);
  }
  if (!res.ok) {
    let problem;
    try {
      problem = await res.json();
    } catch {
      problem = { detail: res.statusText || `HTTP ${res.status}` };
    }
    if (res.status === 401 && path !== "session") {
      for (const fn of unauthorizedListeners) fn(problem);
    }
    throw new ApiError(res.status, problem);
  }
  if (res.status === 204) return null;
  const type = res.headers.get("content-type") || "";
  return type.includes("json") ? res.json() : res;
}

/** A one-line human message for any error thrown by `api`. */
export function describeError(err) {
  if (err instanceof Unreachable) return "Daemon unreachable — check the Wi-Fi and that raild is running.";
  if (err instanceof ApiError) return err.message;
  return String(err?.message || err);
}
