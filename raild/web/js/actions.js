// Run an API command from a button and report the daemon's answer in a toast.

import { describeError } from "./api.js";
import { toast } from "./toast.js";

/** Disables `button` while the request runs; returns the result or null on error. */
export async function run(button, request, { ok } = {}) {
  if (button) button.disabled = true;
  try {
    const result = await request();
    if (ok) toast(ok);
    return result;
  } catch (err) {
    toast(describeError(err), { bad: true });
    return null;
  } finally {
    if (button) button.disabled = false;
  }
}
