// Runs first, as a classic script in <head>: takes a login code out of the URL
// fragment and out of the address bar and history before any other script, style
// sheet or extension can see it. `raild token` prints links of the form
// `#pair=CODE` (a single-use code, never the token). Old `#token=` links are taken
// out too, unused: the token must not sit in a URL, so the page says to pair instead.
"use strict";

window.raildTakeLoginFragment = function raildTakeLoginFragment() {
  const hash = window.location.hash.replace(/^#/, "");
  if (!hash) return null;
  const params = new URLSearchParams(hash);
  const pair = params.get("pair");
  const hadToken = params.has("token");
  if (pair === null && !hadToken) return null;
  params.delete("pair");
  params.delete("token");
  const rest = params.toString();
  history.replaceState(history.state, "", window.location.pathname + window.location.search + (rest ? `#${rest}` : ""));
  if (pair !== null) return { pair: pair.trim() };
  return { refusedToken: true };
};

window.raildLoginFragment = window.raildTakeLoginFragment();
