// The live sharpness figure under the live view, for finding focus by eye and number.
// Its endpoint is named here and only here: point PATH at the daemon's route and
// `read` at its answer. Hidden while the route answers with an error (no live view).

import { showReading } from "./aids.js";
import { api } from "./api.js";

/** The daemon route that answers the current live view's sharpness. */
export const PATH = "camera/sharpness";
const EVERY_MS = 500;

/** The figure from the route's JSON answer (a number, or {sharpness}). */
function read(answer) {
  if (typeof answer === "number") return answer;
  return Number(answer?.sharpness ?? answer?.value);
}

let timer = 0;
let active = false;
let best = 0;

async function poll() {
  if (!active) return;
  const out = document.getElementById("sharpness");
  try {
    const answer = await api(PATH, { timeoutMs: 3000 });
    if (!active) return;
    const value = read(answer);
    showReading(answer); // its tile grid is the focus peaking layer
    if (Number.isFinite(value)) {
      best = Math.max(best * 0.995, value);
      out.textContent = `Sharpness ${value.toFixed(value < 10 ? 2 : 0)}${best > 0 ? ` · ${Math.round((100 * value) / best)} %` : ""}`;
      out.hidden = false;
    }
  } catch {
    out.hidden = true;
    showReading(null);
  }
  if (active) timer = setTimeout(poll, EVERY_MS);
}

/** Poll while the live view runs. */
export function setSharpnessActive(on) {
  const want = Boolean(on);
  if (want === active) return;
  active = want;
  clearTimeout(timer);
  if (active) poll();
  else document.getElementById("sharpness").hidden = true;
}
