// Bottom tab bar: Rig, Stack, Stacks. The open tab is remembered across reloads.

const KEY = "raild.tab";
const TABS = ["rig", "stack", "stacks"];
const listeners = new Set();
let current = "rig";

export function currentTab() {
  return current;
}

/** `fn(tab)` whenever a tab is shown. */
export function onTab(fn) {
  listeners.add(fn);
}

export function showTab(tab) {
  if (!TABS.includes(tab)) tab = "rig";
  current = tab;
  for (const t of TABS) {
    const selected = t === tab;
    document.getElementById(`tab-${t}`).setAttribute("aria-selected", String(selected));
    document.getElementById(`tab-${t}`).tabIndex = selected ? 0 : -1;
    document.getElementById(`panel-${t}`).hidden = !selected;
  }
  try {
    localStorage.setItem(KEY, tab);
  } catch {
    // not remembered
  }
  for (const fn of listeners) fn(tab);
}

export function initTabs() {
  for (const t of TABS) {
    document.getElementById(`tab-${t}`).addEventListener("click", () => showTab(t));
  }
  // Arrow keys move between tabs, as screen-reader users expect of a tab list.
  document.querySelector('[role="tablist"]').addEventListener("keydown", (ev) => {
    const delta = { ArrowRight: 1, ArrowLeft: -1 }[ev.key];
    if (!delta) return;
    const next = TABS[(TABS.indexOf(current) + delta + TABS.length) % TABS.length];
    showTab(next);
    document.getElementById(`tab-${next}`).focus();
    ev.preventDefault();
  });
  let saved = "rig";
  try {
    saved = localStorage.getItem(KEY) || "rig";
  } catch {
    // default tab
  }
  return saved;
}
