// Short messages for the result of an action (e.g. "must home first").

let timer = 0;

/** Errors stay up longer than confirmations: they need reading. */
export function toast(message, { bad = false, ms = bad ? 5000 : 2000 } = {}) {
  const el = document.getElementById("toast");
  el.textContent = message;
  el.classList.toggle("bad", bad);
  el.hidden = false;
  clearTimeout(timer);
  timer = setTimeout(() => {
    el.hidden = true;
  }, ms);
}
