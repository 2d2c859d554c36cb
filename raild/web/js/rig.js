// Rig panel: position, homed state, jog pad, home/zero, motor; plus the stop and
// e-stop buttons and the latch banner that are on every screen.

import { api, describeError } from "./api.js";
import { run } from "./actions.js";
import { mm, stepLabel, um } from "./format.js";
import { getState, subscribe } from "./store.js";
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
  $("jog-minus").setAttribute("aria-label", `Jog ${label} toward the near end (minus)`);
  $("jog-plus").setAttribute("aria-label", `Jog ${label} toward the far end (plus)`);
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

function jog(sign) {
  const by = sign * jogStepUm();
  return run(null, () => api("motion/move", { method: "POST", body: { by_um: by } }));
}

async function stopNow(button) {
  // No disabling or confirmation: a second tap must send a second stop.
  try {
    await api("motion/stop", { method: "POST", body: {}, timeoutMs: 5000 });
    toast("Stopped");
  } catch (err) {
    toast(`Stop failed: ${describeError(err)}`, { bad: true });
  }
  button.blur();
}

async function estopNow() {
  try {
    await api("motion/estop", { method: "POST", body: {}, timeoutMs: 5000 });
    toast("E-stop: halted, motor off", { bad: true });
  } catch (err) {
    toast(`E-stop failed: ${describeError(err)}`, { bad: true });
  }
}

export function initRig() {
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
  $("jog-minus").addEventListener("click", () => jog(-1));
  $("jog-plus").addEventListener("click", () => jog(1));
  $("btn-home").addEventListener("click", (ev) =>
    run(ev.currentTarget, () => api("motion/home", { method: "POST", body: {} }), { ok: "Homing…" }));
  $("btn-zero").addEventListener("click", (ev) =>
    run(ev.currentTarget, () => api("motion/zero", { method: "POST", body: {} }), { ok: "Position set to 0" }));
  $("btn-motor").addEventListener("click", (ev) => {
    const enabled = !getState().status?.motor_enabled;
    run(ev.currentTarget, () => api("motion/motor", { method: "POST", body: { enabled } }));
  });
  $("stop").addEventListener("click", (ev) => stopNow(ev.currentTarget));
  $("estop").addEventListener("click", estopNow);
  $("latch-reset").addEventListener("click", (ev) =>
    run(ev.currentTarget, () => api("motion/reset", { method: "POST", body: {} }), { ok: "Latch reset" }));
  subscribe(render);
  render(getState());
}
