// Run an API command from a button; a refusal is shown as a sentence next to the
// button (not in a toast that may cover it), a success as a short toast.

import { anchorOf, human, sayNear } from "./say.js";
import { toast } from "./toast.js";

/** Disables `button` while the request runs; returns the result or null on error. */
export async function run(button, request, { ok, near } = {}) {
  const anchor = near || anchorOf(button);
  if (button) button.disabled = true;
  try {
    const result = await request();
    if (anchor) sayNear(anchor, null);
    if (ok) toast(ok);
    return result;
  } catch (err) {
    if (anchor) sayNear(anchor, human(err));
    else toast(human(err), { bad: true });
    return null;
  } finally {
    if (button) button.disabled = false;
  }
}
