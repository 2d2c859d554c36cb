// Login with the API token: taken from the URL fragment (`#token=…`, the link that
// `raild token` prints) or typed once, exchanged for the HttpOnly session cookie by
// POST /session. The token itself is never stored by the page.

import { ApiError, Unreachable, api } from "./api.js";

/** Take `token` out of the fragment and remove it from the address bar and history. */
export function takeTokenFromFragment() {
  const hash = window.location.hash.replace(/^#/, "");
  if (!hash) return null;
  const params = new URLSearchParams(hash);
  const token = params.get("token");
  if (token === null) return null;
  params.delete("token");
  const rest = params.toString();
  const clean = window.location.pathname + window.location.search + (rest ? `#${rest}` : "");
  history.replaceState(history.state, "", clean);
  return token.trim();
}

/**
 * Exchange the token for a session cookie.
 * Returns {ok: true} or {ok: false, reason: "wrong" | "throttled" | "unreachable", message}.
 */
export async function login(token) {
  if (!token) return { ok: false, reason: "wrong", message: "Enter the API token." };
  try {
    await api("session", { method: "POST", body: { token } });
    return { ok: true };
  } catch (err) {
    if (err instanceof Unreachable) {
      return { ok: false, reason: "unreachable", message: "Daemon unreachable — reconnecting…" };
    }
    if (err instanceof ApiError && err.status === 401) {
      return {
        ok: false,
        reason: "wrong",
        message: "That token was not accepted. Run 'raild token' on the Pi and use the link or token it prints.",
      };
    }
    if (err instanceof ApiError && err.status === 429) {
      return { ok: false, reason: "throttled", message: `Too many attempts: ${err.message}` };
    }
    return { ok: false, reason: "wrong", message: err.message };
  }
}

/** Whether the session cookie is still good: "authed" | "unauthorized" | "unreachable". */
export async function checkSession() {
  try {
    await api("status", { timeoutMs: 6000 });
    return "authed";
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return "unauthorized";
    if (err instanceof ApiError) return "authed";
    return "unreachable";
  }
}

export async function logout() {
  try {
    await api("session", { method: "DELETE" });
  } catch {
    // The cookie may already be gone; the login screen is shown either way.
  }
}
