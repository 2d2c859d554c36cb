// The bench screen's plan controls: go to a typed position, mark start and end at the
// carriage, go back to either mark to check it, and the plan in one line.

import { api } from "./api.js";
import { run } from "./actions.js";
import { duration, length, mm } from "./format.js";
import { currentPlan, markHere, onPlanChange, planBounds } from "./plan-form.js";
import { sayNear } from "./say.js";
import { showTab } from "./tabs.js";
import { toast } from "./toast.js";

const $ = (id) => document.getElementById(id);

/** "12.5" is mm (the label says so); "250 µm", "250um" or "250 u" is µm; "1.2 mm" too. */
export function parseTarget(text) {
  const m = String(text).trim().replace(",", ".").match(/^(-?\d+(?:\.\d*)?|-?\.\d+)\s*(mm|µm|um|u|μm)?$/i);
  if (!m) return NaN;
  const value = Number(m[1]);
  const unit = (m[2] || "mm").toLowerCase();
  return unit === "mm" ? value * 1000 : value;
}

function goTo(button, toUm, what) {
  if (!Number.isFinite(toUm)) {
    sayNear($("marks"), `No ${what} marked yet: move there and tap Mark ${what}.`);
    return;
  }
  run(button, () => api("motion/move", { method: "POST", body: { to_um: toUm } }), { near: $("marks") });
}

function mark(field, what) {
  const why = markHere(field);
  sayNear($("marks"), why || null);
  if (!why) toast(`${what} marked at ${mm(planBounds()[field === "start_um" ? "startUm" : "endUm"])} mm.`);
}

function renderPlan(plan) {
  const out = $("bench-plan");
  const { startUm, endUm } = plan;
  const ends = `Start ${Number.isFinite(startUm) ? `${mm(startUm)} mm` : "not set"} → end ${
    Number.isFinite(endUm) ? `${mm(endUm)} mm` : "not set"}`;
  out.textContent = plan.error
    ? `${ends}. ${plan.error[0].toUpperCase()}${plan.error.slice(1)}.`
    : `${ends} · ${plan.frames} frames, step ${length(plan.stepUm)}`;
  if (!plan.error && Number.isFinite(plan.seconds)) out.textContent += ` · about ${duration(plan.seconds)}`;
}

export const markStart = () => mark("start_um", "Start");
export const markEnd = () => mark("end_um", "End");

export function initBench() {
  $("goto-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const toUm = parseTarget($("goto").value);
    if (!Number.isFinite(toUm)) {
      sayNear($("goto-form"), "Type a position such as 12.5 (mm) or 250 µm.");
      return;
    }
    run($("goto-btn"), () => api("motion/move", { method: "POST", body: { to_um: toUm } }), {
      near: $("goto-form"),
    });
  });
  $("mark-start").addEventListener("click", markStart);
  $("mark-end").addEventListener("click", markEnd);
  $("goto-start").addEventListener("click", (ev) => goTo(ev.currentTarget, planBounds().startUm, "start"));
  $("goto-end").addEventListener("click", (ev) => goTo(ev.currentTarget, planBounds().endUm, "end"));
  $("bench-edit-plan").addEventListener("click", () => showTab("stack"));
  onPlanChange(renderPlan);
  renderPlan(currentPlan());
}
