// Login: by a single-use pairing code from the URL fragment (`#pair=…`, the link
// and QR code that `raild token` prints; js/pair.js takes it out of the URL before
// anything else runs) or by the token typed once. Either is exchanged for the
// HttpOnly session cookie by POST /session; the page stores neither.

import { ApiError, Unreachable, api } from "./api.js";

export const TOKEN_LINK_REFUSED =
  "Login links carrying the token are no longer accepted (a URL stays in the browser history). " +
  "Run 'raild token' on the Pi and scan its QR code or open its one-time link, or type the token here.";

/**
 * The login the URL fragment asked for: {pair} or {refusedToken: true}, or null.
 * `initial`: the one js/pair.js took at load; later (hashchange) it is taken afresh.
 */
export function takeLoginFromFragment(initial = false) {
  if (initial) {
    const taken = window.raildLoginFragment ?? null;
    window.raildLoginFragment = null;
    return taken;
  }
  return window.raildTakeLoginFragment ? window.raildTakeLoginFragment() : null;
}

/**
 * Exchange a credential ({token} or {pair}) for a session cookie.
 * Returns {ok: true} or {ok: false, reason: "wrong" | "throttled" | "unreachable", message}.
 */
export async function login(credential) {
  const body = credential?.pair ? { pair: credential.pair } : { token: credential?.token };
  if (!body.pair && !body.token) return { ok: false, reason: "wrong", message: "Enter the API token." };
  try {
    await api("session", { method: "POST", body });
    return { ok: true };
  } catch (err) {
    if (err instanceof Unreachable) {
      return { ok: false, reason: "unreachable", message: "Daemon unreachable — reconnecting…" };
    }
    if (err instanceof ApiError && err.status === 401) {
      return {
        ok: false,
        reason: "wrong",
        message: body.pair
          ? "That login link was already used or has expired (each works once, for 10 minutes). " +
            "Run 'raild token' on the Pi for a new one, or type the token."
          : "That token was not accepted. Run 'raild token' on the Pi and use the link or token it prints.",
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
