// Bench panel: position, what the rail is doing and why (homing, motor off, position
// unknown), jog pad, home/zero, motor; plus the stop and e-stop buttons and the latch
// banner that are on every screen.

import { api } from "./api.js";
import { run } from "./actions.js";
import { mm, stepLabel, um } from "./format.js";
import { cancelHold, flushTaps, initJog } from "./jog.js";
import { human } from "./say.js";
import { getState, subscribe } from "./store.js";
import { currentTab } from "./tabs.js";
import { toast } from "./toast.js";

const $ = (id) => document.getElementById(id);
const JOG_KEY = "raild.jogStep";

function jogStepUm() {
  const checked = document.querySelector('input[name="jog-step"]:checked');
  return Number(checked?.value || 10);
}

function showJogStep() {
  const label = stepLabel(jogStepUm());
  $("jog-minus-label").textContent = label;
  $("jog-plus-label").textContent = label;
  $("jog-minus").setAttribute("aria-label", `Jog ${label} toward the near end (minus); hold to keep moving`);
  $("jog-plus").setAttribute("aria-label", `Jog ${label} toward the far end (plus); hold to keep moving`);
}

const MOTOR_OFF = {
  idle: "Motor switched off after idling; the position is kept. The next move switches it on.",
  user: "Motor switched off from a control; the carriage can be turned by hand. Motor on (or any move) holds it again.",
  estop: "Motor off: the e-stop cut it.",
  fault: "Motor off after a fault.",
};

/** One sentence about the rail's state when it needs one, and the buttons that fix it. */
function explain(s) {
  let text = "";
  let fix = false;
  let homing = false;
  if (s.state === "homing") {
    homing = true;
    const where = s.position_known && Number.isFinite(s.position_um) ? ` (now at ${mm(s.position_um)} mm)` : "";
    text = `Homing: the rail is finding its home switch${where}. STOP aborts it.`;
  } else if (s.state === "estop" || s.state === "fault") {
    text = ""; // the latch bar says it, with its Reset button
  } else {
    const parts = [];
    if (!s.motor_enabled) {
      parts.push(s.position_known ? MOTOR_OFF[s.motor_off_reason] || "Motor off; the next move switches it on." : "Motor off.");
    }
    if (!s.position_known) {
      fix = true;
      parts.push(
        "Position unknown (not homed since start-up, a halt it could not date, or the motor was off): "
          + "home the rail, or zero it here.",
      );
    }
    text = parts.join(" ");
  }
  $("rail-explain").hidden = !text;
  $("rail-explain-text").textContent = text;
  $("rail-explain-actions").hidden = !fix;
  $("homing-progress").hidden = !homing;
}

const STATE_BADGE = {
  idle: "ok", moving: "busy", homing: "busy", fault: "bad", estop: "bad",
};

function render(state) {
  const s = state.status;
  const badge = $("rig-state");
  if (state.link === "unauthorized") {
    badge.textContent = "logged out";
    badge.className = "badge";
  } else if (state.link === "offline" || !s) {
    badge.textContent = state.link === "offline" ? "offline" : "connecting";
    badge.className = "badge warn";
  } else {
    badge.textContent = s.state;
    badge.className = `badge ${STATE_BADGE[s.state] || ""}`;
  }
  if (!s) return;
  explain(s);
  flushTaps(s);
  const known = s.position_known && Number.isFinite(s.position_um);
  $("pos-mm").textContent = known ? mm(s.position_um) : "—";
  $("pos-um").textContent = known ? um(s.position_um) : "—";
  const homed = $("homed-badge");
  if (!known) {
    homed.textContent = "position unknown";
    homed.className = "badge warn";
  } else if (s.homed) {
    homed.textContent = "homed";
    homed.className = "badge ok";
  } else {
    homed.textContent = "not homed";
    homed.className = "badge warn";
  }
  const motor = $("btn-motor");
  motor.textContent = s.motor_enabled ? "Motor on" : "Motor off";
  motor.setAttribute("aria-pressed", String(Boolean(s.motor_enabled)));
  motor.setAttribute("aria-label", s.motor_enabled ? "Switch the motor off" : "Switch the motor on");

  const latched = s.state === "estop" || s.state === "fault";
  $("latch").hidden = !latched;
  if (latched) {
    const why = s.fault?.message ? `: ${s.fault.message}` : "";
    $("latch-text").textContent = s.state === "estop"
      ? `E-stop latched — motor off${why}. Reset to move again.`
      : `Fault latched${why}. Reset to move again.`;
  }
}

/** STOP: a controlled stop; during a stack it pauses the stack (resumable). */
export async function stopNow(button, { quiet = false } = {}) {
  // No disabling or confirmation: a second tap must send a second stop.
  try {
    await api("motion/stop", { method: "POST", body: {}, timeoutMs: 5000 });
    const job = getState().status?.job;
    if (job && ["running", "queued", "pausing"].includes(job.state)) {
      toast("Stopped: the stack is paused. Resume or cancel it on the Stack screen.", { ms: 5000 });
    } else if (!quiet) {
      toast("Stopped");
    }
  } catch (err) {
    toast(`Stop failed: ${human(err)}`, { bad: true });
  }
  button?.blur();
}

async function estopNow() {
  try {
    await api("motion/estop", { method: "POST", body: {}, timeoutMs: 5000 });
    toast("E-stop: halted, motor off", { bad: true });
  } catch (err) {
    toast(`E-stop failed: ${human(err)}`, { bad: true });
  }
}

/** `keys`: extra keyboard shortcuts for the bench ({s: markStart, e: markEnd}). */
export function initRig({ keys = {} } = {}) {
  let saved = null;
  try {
    saved = localStorage.getItem(JOG_KEY);
  } catch {
    // no storage: keep the default step
  }
  if (saved) {
    const input = document.querySelector(`input[name="jog-step"][value="${CSS.escape(saved)}"]`);
    if (input) input.checked = true;
  }
  showJogStep();
  $("jog-step").addEventListener("change", () => {
    showJogStep();
    try {
      localStorage.setItem(JOG_KEY, String(jogStepUm()));
    } catch {
      // not remembered
    }
  });
  initJog({
    stepUm: jogStepUm,
    speedUmS: () => Number($("jog-speed").value) || 800,
    stop: () => stopNow(null, { quiet: true }),
    active: () => currentTab() === "rig" && !document.querySelector("dialog[open]"),
    keys,
  });
  const home = (ev) =>
    run(ev.currentTarget, () => api("motion/home", { method: "POST", body: {} }), { ok: "Homing…" });
  const zero = (ev) =>
    run(ev.currentTarget, () => api("motion/zero", { method: "POST", body: {} }), { ok: "Position set to 0" });
  $("btn-home").addEventListener("click", home);
  $("fix-home").addEventListener("click", home);
  $("btn-zero").addEventListener("click", zero);
  $("fix-zero").addEventListener("click", zero);
  $("btn-motor").addEventListener("click", (ev) => {
    const enabled = !getState().status?.motor_enabled;
    run(ev.currentTarget, () => api("motion/motor", { method: "POST", body: { enabled } }));
  });
  $("stop").addEventListener("click", (ev) => {
    cancelHold();
    stopNow(ev.currentTarget);
  });
  $("estop").addEventListener("click", estopNow);
  $("latch-reset").addEventListener("click", (ev) =>
    run(ev.currentTarget, () => api("motion/reset", { method: "POST", body: {} }), { ok: "Latch reset" }));
  subscribe(render);
  render(getState());
}
