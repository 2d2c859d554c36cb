// Short messages for the result of an action (e.g. "must home first").

let timer = 0;

export function toast(message, { bad = false, ms = 4000 } = {}) {
  const el = document.getElementById("toast");
  el.textContent = message;
  el.classList.toggle("bad", bad);
  el.hidden = false;
  clearTimeout(timer);
  timer = setTimeout(() => {
    el.hidden = true;
  }, ms);
}
