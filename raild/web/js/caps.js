// What this daemon offers, read from its OpenAPI document: controls whose endpoint
// is missing are hidden or explained instead of failing (an older daemon, or a
// feature not built in). Reloaded on every reconnect: the daemon may have changed.

const listeners = new Set();
let paths = null; // Set of "/api/v1/..." with every {param} written as {}
let loading = null;

const norm = (path) => path.replace(/\{[^}]*\}/g, "{}");

/** Fetch /openapi.json (no credentials needed); resolves when known or failed. */
export function loadCaps() {
  if (loading) return loading;
  loading = fetch(new URL("openapi.json", document.baseURI), { cache: "no-store" })
    .then((res) => (res.ok ? res.json() : null))
    .then((doc) => {
      if (doc?.paths) {
        paths = new Set(Object.keys(doc.paths).map(norm));
        for (const fn of listeners) fn();
      }
    })
    .catch(() => {})
    .finally(() => {
      loading = null;
    });
  return loading;
}

/** true / false for an API path such as "motion/jog" or "stacks/{id}/coverage";
 *  null while unknown (then a control is shown and a refusal explains itself). */
export function has(path) {
  if (!paths) return null;
  return paths.has(norm(`/api/v1/${path}`));
}

/** `fn()` whenever the list of endpoints has been (re)read. */
export function onCaps(fn) {
  listeners.add(fn);
}
