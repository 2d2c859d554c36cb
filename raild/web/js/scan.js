// Focus scan: the rail sweeps from start to end while the daemon measures live-view
// sharpness, and its suggestion (where the subject is sharp) becomes the plan's start
// and end. A refusal (not homed, busy, no live view) is said in the note below.

import { api } from "./api.js";
import { length } from "./format.js";
import { applySuggestion, planBounds } from "./plan-form.js";
import { human } from "./say.js";

const $ = (id) => document.getElementById(id);
const POLL_MS = 500;
const GIVE_UP_MS = 5 * 60 * 1000;

function note(text) {
  $("scan-note").textContent = text;
  $("scan-note").hidden = !text;
}

async function scan() {
  const { startUm, endUm } = planBounds();
  if (!Number.isFinite(startUm) || !Number.isFinite(endUm)) {
    note("Mark a start and an end around the subject first; the scan looks between them.");
    return;
  }
  const button = $("scan-btn");
  button.disabled = true;
  try {
    await api("focus/scan", { method: "POST", body: { from_um: startUm, to_um: endUm } });
    note("Scanning: the rail sweeps the range while the camera measures sharpness…");
    const t0 = Date.now();
    for (;;) {
      await new Promise((r) => setTimeout(r, POLL_MS));
      const s = await api("focus/scan");
      if (s.state === "running" && Date.now() - t0 < GIVE_UP_MS) continue;
      if (s.state === "done" && s.suggest) {
        applySuggestion(s.suggest);
        note(`Subject found from ${length(s.suggest.start_um)} to ${length(s.suggest.end_um)}: start and end are set.`);
      } else if (s.state === "done") {
        note("The scan found nothing coming into focus in that range: widen it, or check the light.");
      } else {
        note("The scan did not finish; the start and end are unchanged.");
      }
      return;
    }
  } catch (err) {
    note(human(err));
  } finally {
    button.disabled = false;
  }
}

export function initScan() {
  $("scan-btn").addEventListener("click", scan);
}
