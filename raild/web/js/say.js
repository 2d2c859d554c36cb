// Refusals as a plain sentence next to the control that was refused: never an API
// path, never hidden under the sticky stop bar (the page scrolls the sentence in).

import { ApiError, Unreachable } from "./api.js";

const FIELD_NAMES = {
  start_um: "start", end_um: "end", step_um: "step", frames: "frames", settle_ms: "settle time",
  shots_per_position: "shots each", shot_interval_ms: "shot interval", to_um: "target", by_um: "step",
  speed_um_s: "speed", repeat: "repeat", name: "name",
};

function sentence(text) {
  let t = String(text || "").trim()
    // "POST /api/v1/motion/home" or a bare "/api/v1/..." is for curl users, not here.
    .replace(/\b(GET|POST|PUT|PATCH|DELETE)\s+\/?api\/v1\/[\w/{}.-]*/g, "the right command")
    .replace(/\/?api\/v1\/[\w/{}.-]*/g, "")
    .replace(/\b[a-z]+_(um|ms|s|um_s)\b/g, (m) => FIELD_NAMES[m] || m.replace(/_/g, " "))
    .replace(/\s{2,}/g, " ")
    .trim();
  if (!t) return "";
  t = t[0].toUpperCase() + t.slice(1);
  return /[.!?]$/.test(t) ? t : `${t}.`;
}

/** A human sentence for any error the api module throws. */
export function human(err) {
  if (err instanceof Unreachable) return "No answer from the daemon: check the Wi-Fi; the page reconnects by itself.";
  if (err instanceof ApiError) {
    const p = err.problem || {};
    if (Array.isArray(p.errors) && p.errors.length) {
      return sentence(p.errors.map((e) => `${FIELD_NAMES[e.field] || e.field}: ${e.message || e.msg}`).join("; "));
    }
    if (err.status === 404) return "The daemon does not offer this yet.";
    return sentence(p.detail || p.title || `The daemon refused (${err.status})`);
  }
  return sentence(err?.message || String(err));
}

/** Show `text` in a refusal line right after `anchor` (a row or a control); null clears. */
export function sayNear(anchor, text, { bad = true } = {}) {
  if (!anchor) return;
  let line = anchor.nextElementSibling;
  if (!line?.classList.contains("refusal")) {
    if (!text) return;
    line = document.createElement("p");
    line.className = "refusal";
    line.setAttribute("role", "alert");
    anchor.after(line);
  }
  clearTimeout(Number(line.dataset.timer || 0));
  if (!text) {
    line.remove();
    return;
  }
  line.textContent = text;
  line.classList.toggle("ok", !bad);
  // It stays until the next action there, or a while; the user may look away.
  line.dataset.timer = String(setTimeout(() => line.remove(), bad ? 12000 : 4000));
  const r = line.getBoundingClientRect();
  const bar = document.getElementById("controls")?.getBoundingClientRect();
  const bottom = bar && bar.top > 0 && bar.width > window.innerWidth / 2 ? bar.top : window.innerHeight;
  if (r.bottom > bottom || r.top < 60) line.scrollIntoView({ block: "center", behavior: "smooth" });
}

/** The row a control sits in: where its refusal is shown. */
export function anchorOf(el) {
  return el?.closest(".row, .inline, .jog-pad, .marks, .seg, form, .field, li") || el;
}
