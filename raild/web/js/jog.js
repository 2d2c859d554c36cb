// The jog buttons: a tap moves one fine step, press-and-hold moves continuously.
// While held, `POST motion/jog` is repeated every RENEW_MS; the daemon stops the rail
// by itself when no renewal arrives within its dead-man time (500 ms), so a phone
// that loses its Wi-Fi, sleeps or crashes mid-hold never leaves the rail running.
// Releasing, cancelling (a scroll gesture, a call) or leaving the button sends a stop.
// Keyboard: arrow keys do the same (tap or hold), space stops, s / e mark start / end.

import { api } from "./api.js";
import { human, sayNear } from "./say.js";
import { getState } from "./store.js";

const HOLD_MS = 300;
const RENEW_MS = 200;

const $ = (id) => document.getElementById(id);

let hold = null; // {dir, timer, renew, jogging, flying}
let pendingUm = 0; // taps that arrived while a move ran: sent as one move when idle
let moving = false;
let opts = { stepUm: () => 10, speedUmS: () => 800, stop: () => {}, keys: {} };

const pad = () => $("jog-pad");

async function sendStep(byUm) {
  moving = true;
  try {
    await api("motion/move", { method: "POST", body: { by_um: byUm } });
    sayNear(pad(), null);
  } catch (err) {
    sayNear(pad(), human(err));
  } finally {
    moving = false;
  }
}

/** A tap: one step now, or added to the steps waiting for the current move to end. */
function tapStep(dir) {
  const by = dir * opts.stepUm();
  const s = getState().status;
  if (moving || s?.state === "moving") {
    pendingUm += by;
    return;
  }
  sendStep(by);
}

/** Called on every status: send the taps that waited for the rail to come to rest. */
export function flushTaps(status) {
  if (!pendingUm || moving || status?.state !== "idle") return;
  const by = pendingUm;
  pendingUm = 0;
  sendStep(by);
}

async function sendJog(h) {
  const request = api("motion/jog", {
    method: "POST",
    body: { direction: h.dir > 0 ? "+" : "-", speed_um_s: opts.speedUmS() },
    timeoutMs: 1500,
  });
  h.flying.add(request);
  try {
    await request;
  } catch (err) {
    if (hold !== h) return;
    // No renewal from here on: the daemon's dead-man stops the rail.
    clearInterval(h.renew);
    h.jogging = false;
    sayNear(pad(), human(err));
  } finally {
    h.flying.delete(request);
  }
}

function startJog() {
  const h = hold;
  if (!h) return;
  h.jogging = true;
  pendingUm = 0;
  sendJog(h);
  h.renew = setInterval(() => sendJog(h), RENEW_MS);
}

function press(dir) {
  if (hold) return;
  sayNear(pad(), null);
  hold = { dir, jogging: false, renew: 0, flying: new Set() };
  hold.timer = setTimeout(startJog, HOLD_MS);
}

/** `tap`: the press ended normally (a short press is a step); false on cancel. */
function release(tap) {
  const h = hold;
  hold = null;
  if (!h) return;
  clearTimeout(h.timer);
  clearInterval(h.renew);
  if (h.jogging) {
    opts.stop();
    // A renewal already on its way could reach the daemon after the stop and start
    // the rail again (until the dead-man): stop once more when it has landed.
    if (h.flying.size) Promise.allSettled([...h.flying]).then(() => opts.stop());
  } else if (tap) {
    tapStep(h.dir);
  }
}

/** Stop a hold without a step (the page hides, the window loses focus). */
export function cancelHold() {
  release(false);
}

function bindButton(button, dir) {
  button.addEventListener("pointerdown", (ev) => {
    if (ev.button !== 0) return;
    ev.preventDefault();
    try {
      button.setPointerCapture(ev.pointerId);
    } catch {
      // synthetic pointers may not be capturable; release still arrives
    }
    press(dir);
  });
  button.addEventListener("pointerup", () => release(true));
  button.addEventListener("pointercancel", () => release(false));
  button.addEventListener("pointerleave", () => {
    if (hold?.jogging) release(false);
  });
  button.addEventListener("lostpointercapture", () => {
    if (hold?.jogging) release(false);
  });
  // Keyboard activation (Enter, or space on a focused button) has no pointer: a tap.
  button.addEventListener("click", (ev) => {
    if (ev.detail === 0) tapStep(dir);
  });
  // A long press must not open the phone's context menu.
  button.addEventListener("contextmenu", (ev) => ev.preventDefault());
}

function typing(target) {
  return target instanceof HTMLElement && (target.matches("input, select, textarea") || target.isContentEditable);
}

const KEY_DIR = { ArrowRight: 1, ArrowUp: 1, ArrowLeft: -1, ArrowDown: -1 };

function onKeyDown(ev) {
  if (typing(ev.target) || ev.ctrlKey || ev.metaKey || ev.altKey) return;
  if (ev.key === " " || ev.code === "Space") {
    ev.preventDefault();
    cancelHold();
    opts.stop();
    return;
  }
  if (!opts.active()) return;
  if (ev.target?.getAttribute?.("role") === "tab") return; // arrows move between tabs there
  const dir = KEY_DIR[ev.key];
  if (dir) {
    ev.preventDefault();
    if (!ev.repeat) press(dir);
    return;
  }
  const fn = opts.keys[ev.key.toLowerCase()];
  if (fn && !ev.repeat) {
    ev.preventDefault();
    fn();
  }
}

function onKeyUp(ev) {
  if (ev.key === " " || ev.code === "Space") {
    if (!typing(ev.target)) ev.preventDefault(); // no click on a focused button as well
    return;
  }
  if (KEY_DIR[ev.key] && hold) {
    ev.preventDefault();
    release(true);
  }
}

/** `stepUm()`, `speedUmS()`, `stop()`, `active()` (bench shown), `keys` {s: fn, e: fn}. */
export function initJog(options) {
  opts = { ...opts, ...options };
  bindButton($("jog-minus"), -1);
  bindButton($("jog-plus"), 1);
  document.addEventListener("keydown", onKeyDown);
  document.addEventListener("keyup", onKeyUp);
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "hidden") cancelHold();
  });
  window.addEventListener("blur", cancelHold);
}
